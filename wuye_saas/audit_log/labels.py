"""The audit log's Chinese words: what each recorded entity, action, field and coded value is
called. The single place to add a name when a new model, form field or `record_event` appears
(tests/test_audit_log.py fails for an audited table or a recorded action without one).

Field names come, in this order, from: a per-entity override; the labels of the forms that edit
that entity; the system columns below (no form edits them); any form field whose label is the
same everywhere in the product; the entity of an `…_id` column or a count of rows (`streets`).
"""
from __future__ import annotations

import re
import sys
from functools import cache

from wtforms import Form
from wtforms.fields.core import UnboundField

from ..audit import ACTIONS
from ..auth.models import ROLE_LABELS
from ..committees import models as committees
from ..credit import models as credit
from ..demands import models as demands
from ..evaluation import models as evaluation
from ..evaluation.standards import COMPUTED_LABELS, LIST_RULES
from ..fees import models as fees
from ..fees.billing import SCOPE_LABELS
from ..exits import models as exits
from ..hiring import models as hiring
from ..followups import models as followups
from ..importer.logic import KINDS as IMPORT_KINDS
from ..jobs.schedule import SCHEDULE
from ..meetings import models as meetings
from ..org.models import AREA_SOURCES
from ..org.resources import RESOURCES
from ..publicity import models as publicity
from ..votes import models as votes
from ..matters.models import FILING_STATUSES

# --- entities ----------------------------------------------------------------------------------
# Grouped as the sidebar groups the product; the filter lists them in this order. Besides tables
# the log holds `record_event` summaries of bulk writes under "import" and "seed".
ENTITY_GROUPS: list[tuple[str, dict[str, str]]] = [
    ("组织架构", {"tenant": "区县", "street": "街道", "community": "社区", "grid": "网格", "department": "职能部门"}),
    ("小区与住户", {"compound": "小区", "building": "楼栋", "household": "住户", "household_class": "困难类别",
                "household_class_link": "住户困难类别", "person": "业主", "ownership": "产权登记"}),
    ("物业企业", {"firm": "物业企业", "contract": "物业服务合同", "contract_filing": "合同备案",
              "filing_review": "合同备案审核", "filing_file": "合同备案附件", "filing_rule": "合同备案设置",
              "firm_exit": "退出交接", "handover_item": "交接事项", "exit_rule": "退出交接规则"}),
    ("物业选聘", {"hiring_rule": "招投标规则", "selection": "物业选聘", "selection_candidate": "选聘候选企业",
              "tender_application": "投标报名", "panel_member": "评标委员", "panel_score": "评委评分"}),
    ("业委会", {"committee": "业委会/物管会", "committee_member": "委员", "formation": "业委会组建换届",
              "candidate": "候选人", "vetting_criterion": "联审审查项", "vetting_check": "候选人联审结果",
              "committee_supervision": "业委会监督措施"}),
    ("党建", {"party_org": "党组织", "instructor": "党建指导员", "cross_appointment": "交叉任职"}),
    ("收费管理", {"fee_policy": "收费政策", "fee_policy_grade": "收费政策单价", "fee_concession": "企业让利",
              "fee_assignment": "收费政策分配", "billing_run": "账单开具", "bill": "账单", "bill_sum": "账单汇总",
              "owed_bill": "欠费账单", "household_owed": "住户欠费合计",
              "compound_owed": "小区欠费户数",
              "credit_note": "冲减单", "payment": "缴费记录", "subsidy_claim": "补贴申领",
              "holdback_release": "质量保证金释放", "holdback_credit": "质量保证金返还业主"}),
    ("账目公示与表决", {"ledger_keeper": "记账人设置", "ledger_entry": "账目", "ledger_voucher": "记账凭证",
                 "publication": "公示", "publication_check": "公示核对", "objection": "质询",
                 "publicity_requirement": "公示要求", "owner_vote": "业主表决", "ballot": "表决票",
                 "vote_item": "表决议题", "ballot_choice": "表决票议题意见", "vote_roll": "表决权登记名册",
                 "fund_application": "维修资金使用申请", "fund_review": "维修资金使用审核",
                 "matter_filing": "重大事项报备", "matter_filing_file": "重大事项报备材料", "matter_rule": "重大事项报备标准",
                 "fund_rule": "维修资金交存标准", "fund_allocation": "维修资金分户分摊",
                 "fund_share": "维修资金分户账"}),
    ("基层治理", {"demand_category": "诉求分类", "demand_channel": "诉求受理渠道", "demand": "诉求", "demand_event": "诉求办理记录", "demand_counter": "诉求编号计数",
              "demand_photo": "诉求照片", "meeting": "联席会议", "meeting_attendee": "参会人员",
              "agenda_item": "议题", "action_item": "落实事项", "meeting_cadence": "会议召开频次", "follow_up": "待办督办",
              "four_list_item": "四项清单事项", "four_list_update": "四项清单进展",
              "volunteer_team": "志愿服务队", "volunteer": "党员志愿者", "volunteer_task": "志愿服务任务",
              "point_exchange": "积分兑换", "building_leader": "楼栋长/党员中心户"}),
    ("对外接口", {"api_client": "接口客户端", "api_request": "接口幂等记录", "domain_event": "业务事件"}),
    ("消息与推送", {"inbox_item": "站内消息", "notify_preference": "消息提醒设置", "message_template": "消息模板",
               "provider_config": "短信/微信发送设置", "outbox_message": "待发消息",
               "webhook_subscription": "Webhook 订阅", "webhook_delivery": "Webhook 投递"}),
    ("考核评价", {"standard": "评分标准", "standard_category": "评分标准分类", "standard_item": "评分项",
              "evaluation": "考核", "assessment": "考核对象", "item_score": "考核得分",
              "evidence": "佐证材料", "assessor_assignment": "第三方测评分工", "survey": "居民满意度测评",
              "survey_response": "居民满意度答卷", "appeal": "申诉", "compound_month": "月度统计快照",
              "node_month": "月度统计汇总"}),
    ("信用档案", {"credit_record_kind": "信用记录类型", "credit_rule": "信用评价规则", "credit_record": "信用记录",
              "credit_evidence": "信用证明材料", "credit_objection": "信用异议", "credit_grade": "季度信用等级",
              "firm_flag": "上榜后果标记"}),
    ("账号与系统", {"user": "账号", "membership": "账号角色", "import": "数据导入", "seed": "演示数据",
               "job_run": "后台任务", "schedule_state": "定时任务", "login_lock": "登录失败计数", "login_session": "登录会话",
               "audit_event": "审计记录"}),
]
ENTITY_LABELS: dict[str, str] = {t: label for _, group in ENTITY_GROUPS for t, label in group.items()}
OTHER_GROUP = "其他"

# --- actions -----------------------------------------------------------------------------------
ACTION_LABELS: dict[str, str] = ACTIONS | {"snapshot": "生成快照"}

# --- fields ------------------------------------------------------------------------------------
# Columns no form edits (or whose form label does not fit every table), and the keys of the
# summaries that record_event writes.
FIELD_LABELS: dict[str, str] = {
    # ids, keys and bookkeeping
    "id": "编号", "tenant_id": "区县", "status": "状态", "created_at": "创建时间", "updated_at": "更新时间",
    "created_by_id": "创建人", "user_id": "账号", "name": "名称", "title": "标题", "kind": "类型",
    "note": "备注", "reason": "原因", "decision": "处理意见", "detail": "说明", "description": "说明",
    "sort": "排序", "active": "启用", "phone": "电话", "code": "编码", "category_id": "分类",
    "direction": "方向", "unit": "单位", "outcome": "结果", "method": "方式", "quotes": "报价情况",
    "month": "月份", "household_code": "户码", "username": "用户名", "display_name": "姓名",
    "password_hash": "密码", "is_platform_admin": "平台管理员", "last_login_at": "最近登录",
    "slug": "访问标识", "region": "所属地区", "data_version": "数据版本", "snapshot_version": "统计快照版本", "role": "角色", "is_chair": "主任",
    "at": "时间", "actor": "操作人", "label": "说明", "key": "去重标识", "version": "版本", "level": "层级",
    "result": "结果", "data": "附加信息", "filename": "文件名", "stored_name": "存储文件名",
    "content_type": "文件类型", "size": "文件大小（字节）", "args": "参数", "changes": "变更内容",
    "household_id": "住户", "building_id": "楼栋", "street_id": "街道", "community_id": "社区",
    "firm_id": "物业企业", "compound_id": "小区", "committee_id": "业委会/物管会", "grid_id": "网格", "department_id": "职能部门",
    "item_id": "评分项", "evaluation_id": "考核", "standard_id": "评分标准", "policy_id": "收费政策",
    "family_id": "收费政策", "demand_id": "诉求", "agenda_item_id": "议题", "vote_id": "业主表决",
    "meeting_id": "会议", "publication_id": "公示", "assessment_id": "考核对象", "bill_id": "账单",
    "candidate_id": "候选人", "criterion_id": "审查项", "formation_id": "组建换届", "event_id": "办理记录",
    "entry_id": "账目", "item_score_id": "考核得分", "survey_id": "满意度测评", "membership_id": "测评账号",
    "application_id": "维修资金使用申请", "household_class_id": "困难类别", "job_run_id": "后台任务",
    "billing_run_id": "账单开具批次", "ledger_entry_id": "账目", "previous_committee_id": "上届业委会/物管会",
    "escalated_from_id": "社区提交的议题", "reverses_id": "冲销的账目", "based_on_id": "来源版本",
    "reviewer_id": "审核人", "reviewed_by_id": "社区审核人", "confirmed_by_id": "街道确认人",
    "decided_by_id": "裁定人", "closed_by_id": "办结人", "asked_by": "提问人",
    # times and dates
    "accepted_at": "接单时间", "activated_at": "启用时间", "answered_at": "答复时间", "asked_at": "提问时间",
    "appeal_until": "申诉截止日期", "checked_at": "核对时间", "closed_at": "关闭时间",
    "computed_at": "结果计算时间", "confirmed_at": "街道确认时间", "deadline_at": "办理时限",
    "decided_at": "决定时间", "dispatched_at": "派单时间", "done_on": "完成日期", "escalated_at": "升级街道时间",
    "filed_at": "报备时间", "finalized_at": "定稿时间", "frozen_at": "冻结时间", "issued_at": "开具时间",
    "last_at": "上次运行时间", "opened_on": "发起日期", "publicized_on": "公示日期", "published_at": "发布时间",
    "received_at": "受理时间", "recorded_at": "登记时间", "resolved_at": "办结时间", "results_at": "结果计算时间",
    "reviewed_at": "审核时间", "started_on": "开始日期", "submitted_at": "提交时间", "taken_at": "统计时间",
    "uploaded_at": "上传时间", "finished_at": "完成时间", "valid_from": "开始日期", "valid_to": "截止日期",
    "period_start": "期间开始", "period_end": "期间结束",
    # money (integer 分, shown in 元) and amounts
    "amount_fen": "金额", "approved_fen": "核准金额", "base_fen": "物业费", "billed_fen": "应收金额",
    "budget_fen": "预算金额", "collected_fen": "实收金额", "firm_fen": "企业让利", "flat_fen": "每户单价（元/户·月）",
    "gov_cap_fen": "政府承担封顶（元/小区·月）", "gov_fen": "政府承担", "holdback_fen": "质量保证金留存",
    "resident_fen": "居民缴纳", "area": "面积（㎡）", "area_centi": "专有部分面积（㎡）",
    "total_area_centi": "专有部分总面积（㎡）", "total_heads": "业主总人数", "rate": "单价（元/㎡·月）",
    "float_percent": "浮动幅度（±%）", "percent": "让利比例（%）", "grade": "服务等级", "bill_count": "账单数",
    # other system columns
    "answers": "答卷", "applicant": "申请方", "approve": "审核意见", "base_total": "基本项得分",
    "bonus_total": "加分", "breakdown": "得分明细", "classes": "困难类别", "close_note": "办理情况",
    "comment": "意见建议", "consequences": "处理措施", "content": "公示内容", "content_hash": "内容指纹",
    "prev_hash": "上一份指纹", "cycle_weights": "年度考核权重", "elected": "当选", "final_points": "最终得分",
    "frozen": "已冻结（已开具账单）", "list_rules": "榜单规则", "new_points": "改定分值", "number": "诉求编号",
    "old_points": "原分值", "passed": "表决通过", "publisher": "发布人", "rank": "排名",
    "reopen_count": "重新办理次数", "resolution": "办理结果", "result_note": "选举情况", "return_note": "退回意见",
    "review_occurrences": "审核扣分次数", "review_points": "审核得分", "review_reason": "改分理由",
    "no_survey_rule": "无有效测评时的计分",
    "scope_id": "开具范围编号", "scope_kind": "开具范围类型", "scope_label": "开具范围", "self_note": "自评说明",
    "self_occurrences": "自评扣分次数", "self_points": "自评得分", "seq": "公示序号", "star_bands": "星级分档",
    "identity_key": "身份标识（摘要）", "id_masked": "身份证号码（脱敏）", "share": "共有方式", "person_id": "业主",
    "developer_held": "开发商持有（未售或未交付）", "area_source": "面积来源", "roll_on": "表决权登记日",
    "position": "序号", "ballot_id": "表决票", "election_on": "选举日期",
    "stars": "星级", "total": "总分", "vetoed": "一票否决", "owner_key": "业主标识", "developer": "开发商未售房屋",
    "choice": "表决意见", "present": "出席", "list_kind": "榜单", "message": "结果说明", "progress": "进度",
    "func": "任务函数", "issued": "开具账单数", "existing": "已有账单数", "skipped": "跳过的小区",
    # credit file
    "nature": "性质", "validity_days": "有效期（天）", "serious": "严重失信", "basis": "依据",
    "base_source": "基础分来源", "base_points": "基础分", "bands": "等级分档", "objection_days": "异议期（天）",
    "warning_bad_count": "警示名单不良记录条数", "evaluation_kinds": "自动生成记录的考核类型",
    "occurred_on": "发生日期", "valid_until": "有效期至", "source": "来源", "source_ref": "来源标识",
    "revoked_at": "撤销时间", "revoked_on": "撤销日期", "revoked_by_id": "撤销人", "revoke_reason": "撤销原因",
    "record_id": "信用记录", "kind_id": "记录类型", "filed_by_id": "提出人", "quarter_end": "季度末",
    "base": "基础分", "good": "优良记录分", "bad": "不良记录分", "score": "信用分", "firms": "企业数",
    "grades": "各等级企业数", "consequence_days": "上榜后果有效期（天）",
    "overdue_demands_threshold": "每月逾期升级诉求达到（件）计不良记录", "source_key": "来源标识",
    # keys of record_event summaries (counts of bulk writes)
    "compounds": "小区数", "assessments": "考核对象数", "item_scores": "评分记录数", "evidence": "佐证材料数",
    "filled": "补记的月份", "months": "月数", "escalated": "升级街道件数", "demands": "诉求件数",
    "events": "办理记录数", "payments": "缴费笔数", "surveys": "测评小区数", "responses": "答卷份数",
    "entries": "账目笔数", "file": "文件名", "rows": "行数", "class_links": "住户困难类别记录数", "ownerships": "产权登记条数", "persons": "业主人数",
    "changed_results": "结果有变化的考核对象数", "changed_item_points": "得分有变化的评分记录数",
    # keys inside JSON values (star bands, list rules, levels, results …)
    "min": "最低分", "list": "榜单", "rule": "条件", "value": "数值", "points": "分值", "lines": "计票说明",
    "categories": "分类得分", "bonus_raw": "加分（未封顶）", "no_data": "缺少数据", "survey_rules": "无有效测评的计分规则",
    "committee_unscored": "业委会未评价的项",
    "veto_effects": "否决后果", "vetoed_items": "否决项",
}

# Where one column means something particular in one entity (or a summary key does).
ENTITY_FIELD_LABELS: dict[str, dict[str, str]] = {
    "tenant": {"name": "区县名称", "active": "启用"},
    "user": {"active": "启用", "phone": "手机号", "sessions_ended": "结束的登录数"},
    "membership": {"user_id": "账号", "active": "启用"},
    "demand_channel": {"code": "渠道代码", "name": "渠道名称", "active": "启用", "sort": "排序"},
    "demand": {"closed_at": "关闭时间", "category_id": "诉求分类", "assignee_name": "承办人（单位）"},
    "demand_event": {"kind": "办理环节", "note": "说明", "actor": "办理人", "assignee_kind": "承办方",
                     "assignee": "承办人（单位）", "again": "改派", "level": "派单层级", "on_time": "按时办结",
                     "satisfaction": "回访满意度", "channel": "受理渠道", "deadline_at": "办理时限",
                     "reopen_count": "重新办理次数"},
    "four_list_item": {"kind": "清单类别", "year": "年度", "owner_kind": "责任主体", "owner_name": "责任单位/责任人",
                       "due_on": "完成时限", "state": "状态", "progress": "完成进度（%）",
                       "priority": "为民服务项目", "demand_id": "来源诉求", "agenda_item_id": "来源议题",
                       "detail": "内容说明", "compound_id": "涉及小区", "firm_id": "物业服务企业"},
    "four_list_update": {"item_id": "事项", "state": "状态", "progress": "完成进度（%）", "note": "进展情况",
                         "author": "报告人", "at": "报告时间"},
    "volunteer_team": {"leader": "队长", "note": "说明", "community_id": "社区"},
    "volunteer": {"organisation": "工作单位/所在党组织", "is_party_member": "党员", "reported_on": "到社区报到日期",
                  "team_id": "志愿服务队", "building_id": "联系楼栋", "area_note": "楼道/单元", "phone": "联系电话",
                  "active": "在册", "community_id": "社区", "volunteers": "志愿者人数",
                  "tasks": "党员接单件数"},
    "volunteer_task": {"kind": "类型", "state": "状态", "volunteer_id": "认领的志愿者", "team_id": "认领的服务队",
                       "demand_id": "诉求", "claimed_on": "认领日期", "done_on": "完成日期",
                       "hours_tenths": "服务时长（0.1 小时）", "points": "积分", "result": "完成情况",
                       "detail": "内容", "compound_id": "小区", "community_id": "社区"},
    "building_leader": {"building_id": "楼栋", "compound_id": "小区", "role": "职责", "unit_no": "单元",
                        "phone": "联系电话", "is_party_member": "党员", "since": "任职日期"},
    "point_exchange": {"volunteer_id": "志愿者", "points": "兑换积分", "item": "兑换物品或服务", "on": "兑换日期"},
    "follow_up": {"kind": "督办类型", "closed_at": "办结时间", "due_on": "完成时限", "detail": "说明"},
    "formation": {"kind": "类型", "committee_id": "成立的业委会/物管会"},
    "vetting_check": {"result": "审查结论", "unit": "审查单位", "note": "说明", "user_id": "登记人", "at": "登记时间"},
    "meeting": {"level": "召集层级", "status": "状态"},
    "meeting_attendee": {"present": "出席"},
    "meeting_cadence": {"level": "层级", "kind": "会议类型", "every": "召开频次", "active": "在用"},
    "agenda_item": {"decision": "议定结果 / 提交上级的意见", "meeting_id": "会议", "level": "议事层级"},
    "action_item": {"agenda_item_id": "对应议题"},
    "objection": {"decision": "裁决意见", "line": "质询的公示内容"},
    "ledger_entry": {"user_id": "记账人", "kind": "账目类型", "amount_fen": "金额（收入为正，支出为负）",
                     "income": "公共收益收入分录", "out": "公共收益支出分录", "into": "维修资金收入分录",
                     "percent": "补充比例", "fund_balance": "维修资金余额（分）", "first_deposit": "首期交存额（分）"},
    "ledger_keeper": {"kind": "账目类型", "keeper": "记账人"},
    "publication": {"kind": "公示类型", "user_id": "发布人账号", "key_id": "签名密钥编号",
                    "hash_version": "指纹格式版本", "signature": "签名"},
    "publication_check": {"user_id": "核对人"},
    "owner_vote": {"result": "表决结果", "status": "状态"},
    "matter_filing": {"vote_id": "业主表决", "matter": "事项", "title": "事项名称", "summary": "书面报备内容",
                      "spending_fen": "支出金额", "status": "状态", "filed_at": "报备街道时间",
                      "filed_by_id": "报备人", "party_reported_at": "报告社区党组织时间",
                      "party_reported_by_id": "登记人（社区）", "decided_at": "街道签收/退回时间",
                      "decided_by_id": "街道经办人", "return_reason": "退回理由"},
    "matter_filing_file": {"filing_id": "重大事项报备", "filename": "文件名", "stored_name": "存储名",
                           "content_type": "文件类型", "size": "大小（字节）", "sha256": "SHA-256 摘要"},
    "matter_rule": {"threshold_fen": "支出报备标准"},
    "api_client": {"scopes": "权限范围", "key_id": "客户端标识", "secret_hash": "密钥",
                   "rate_per_minute": "每分钟调用上限", "rotated_at": "密钥轮换时间"},
    "notify_preference": {"membership_id": "账号角色", "sms_kinds": "短信提醒类型", "wechat_kinds": "微信提醒类型",
                          "phone": "接收短信的手机号", "wechat_openid": "微信 OpenID", "updated_at": "更新时间"},
    "message_template": {"kind": "消息类型", "text": "模板内容", "sms_template_code": "短信模板编号",
                         "wechat_template_id": "微信模板 ID"},
    "provider_config": {"channel": "渠道", "provider": "服务商", "endpoint": "接口地址", "key_id": "接入账号（AccessKey ID / AppID）",
                        "secret": "密钥", "sign_name": "短信签名", "rate_per_minute": "每分钟发送上限",
                        "quiet_start": "免打扰开始（时）", "quiet_end": "免打扰结束（时）", "updated_at": "更新时间"},
    "webhook_subscription": {"client_id": "接口客户端", "url": "接收地址", "kinds": "订阅的事件", "secret": "签名密钥",
                             "active": "启用", "created_by_id": "创建人"},
    "fund_rule": {"cost_fen_per_m2": "每平方米建安造价", "rate_percent": "首期交存比例（%）",
                  "revenue_rule": "适用公共收益补充维修资金规定", "revenue_percent": "公共收益补充比例（%）"},
    "fund_allocation": {"entry_id": "维修资金分录", "entries": "补记笔数", "basis": "分摊方式", "building_ids": "涉及楼栋",
                        "households": "分摊户数"},
    "fund_review": {"level": "审核层级", "reason": "意见", "user_id": "审核人"},
    "fund_application": {"status": "状态", "building_ids": "涉及楼栋"},
    "subsidy_claim": {"amount_fen": "申领金额（政府承担部分）", "reason": "退回理由"},
    "payment": {"amount_fen": "收款金额"},
    "bill": {"base_fen": "物业费", "month": "账单月份"},
    "fee_policy": {"holdback_bands": "质量保证金释放档位", "holdback_kept_to": "未返还部分去向"},
    "holdback_credit": {"amount_fen": "返还金额", "month": "保证金月份", "bill_id": "抵扣的账单",
                        "release_id": "质量保证金释放记录"},
    "holdback_release": {"withheld_fen": "扣留的质量保证金", "released_fen": "返还企业", "kept_fen": "留存（计入公共收益）",
                         "month": "账单月份", "percent": "返还比例（%）", "basis": "释放依据"},
    "credit_note": {"gov_fen": "冲减政府承担", "firm_fen": "冲减企业让利", "resident_fen": "冲减居民缴纳"},
    "fee_policy_grade": {"rate": "单价（元/㎡·月）"},
    "standard": {"unit": "考核单位", "note": "说明"},
    "standard_item": {"kind": "评分项类型"},
    "evaluation": {"kind": "考核类型", "name": "考核名称",
                   # the summary event of a 质量保证金 release run (fees/holdback.py _write)
                   "postings": "质量保证金释放笔数", "withheld_fen": "扣留的质量保证金", "released_fen": "返还企业",
                   "kept_fen": "未返还（留存或返还业主）", "ledger_entries": "公共收益分录笔数",
                   "credits": "返还业主笔数", "source": "触发原因"},
    "assessment": {"unit": "考核单位", "status": "状态", "total": "总分"},
    "appeal": {"status": "状态", "decision": "裁定意见", "item_id": "申诉的评分项"},
    "ballot_choice": {"item_id": "表决议题", "choice": "表决意见"},
    "committee_supervision": {"kind": "监督措施"},
    "schedule_state": {"name": "定时任务"},
    "import": {"kind": "导入类型", "table": "数据表"},
    "credit_record": {"evidence": "事实与依据", "points": "分值（优良为正，不良为负）"},
    "credit_objection": {"reason": "异议理由", "decision": "裁定理由", "filed_at": "提出时间"},
    "credit_grade": {"grade": "信用等级"},
    "credit_record_kind": {"points": "分值"},
    "firm_flag": {"kind": "后果类型", "valid_from": "生效日期", "points": "招投标加分（分）"},
    "contract_filing": {"kind": "合同类型", "status": "备案状态", "activates": "备案后生效", "step_since": "本环节开始",
                        "due_on": "本环节时限", "filed_by_id": "报送人", "submitted_at": "提交时间",
                        "number": "备案编号", "number_year": "编号年度", "number_seq": "编号序号",
                        "filed_at": "备案时间", "filed_on": "备案日期", "approved_by_id": "区级核准人"},
    "filing_review": {"filing_id": "合同备案", "level": "审核层级", "approve": "通过", "reason": "意见", "due_on": "时限", "late": "超过时限",
                      "user_id": "审核人", "reviewed_at": "审核时间"},
    "filing_file": {"filing_id": "合同备案", "filename": "文件名", "stored_name": "存储名", "content_type": "文件类型", "size": "大小（字节）",
                    "uploaded_at": "上传时间"},
    "contract": {"agreed_end_date": "原合同截止日期", "end_reason": "截止日期变更原因"},
    "firm_exit": {"source": "退出原因", "source_key": "来源标识", "vote_id": "解聘表决", "reason": "说明",
                  "notice_on": "书面通知日期", "effective_on": "退出生效日期", "notice_late": "通知晚于法定期限",
                  "deadline_on": "交接期限", "outgoing_serving": "原企业继续服务至交接完成",
                  "incoming_kind": "接管方", "incoming_contract_id": "接管合同", "contract_id": "退出的合同",
                  "firm_id": "退出企业", "status": "状态", "handover_on": "交接完成日期",
                  "refusal_recorded_on": "记入信用档案日期", "started_by_id": "发起人"},
    "handover_item": {"kind": "交接事项", "exit_id": "退出交接", "amount_fen": "移交金额", "count": "件数",
                      "side": "签收方", "signed_by_id": "签收人", "signed_at": "签收时间", "note": "签收说明",
                      "dispute_reason": "争议理由", "disputed_at": "提出争议时间", "status": "状态"},
    "exit_rule": {"grace_days": "交接宽限期（天）", "record_refusal": "逾期未交接记入信用档案"},
    "selection": {"status": "状态", "acting": "发起方", "mode": "选聘方式", "fee_rate": "物业费单价上限（元/㎡·月）",
                  "winner_firm_id": "选定企业", "contract_id": "合同草稿", "notice_publication_id": "招标公告",
                  "result_publication_id": "结果公示", "outcome_note": "选聘结果", "firm_signed_at": "企业签订时间",
                  "owners_signed_at": "业主方签订时间", "deadline": "报名截止日期", "title": "选聘名称"},
    "selection_candidate": {"outcome": "表决情况", "quoted_rate": "报价（元/㎡·月）"},
    "tender_application": {"grade": "信用等级（报名时）", "lists": "榜单（报名时）", "bonus": "红榜加分",
                           "average": "评委平均分", "total": "总分", "rank": "排名", "applied_at": "报名时间",
                           "user_id": "报名人", "quoted_rate": "报价（元/㎡·月）"},
    "panel_score": {"application_id": "投标报名", "member_id": "评委", "points": "评分"},
    "hiring_rule": {"barred_grades": "不得参加招投标的信用等级",
                    "bar_black_list": "黑榜企业不得参加招投标"},
}

# Internal columns not worth a line in the log: the follow-up's idempotency key is made of codes
# and ids ("eval:1:82:exit") that say nothing the kind, subject and title do not.
HIDDEN_FIELDS: dict[str, set[str]] = {"follow_up": {"key"}, "credit_record": {"source_ref"},
                                      "firm_flag": {"source_key"}, "firm_exit": {"source_key"}}

# Which entity each record-editing form edits (the register's forms come from its resources).
# Forms of actions (notes, decisions, passwords) are not listed: their field names are not columns.
FORM_ENTITIES: dict[str, tuple[str, ...]] = {
    "admin.forms:DistrictForm": ("tenant",),
    "users.forms:AccountForm": ("user", "membership"),
    "users.forms:MembershipForm": ("membership",),
    "users.forms:ScopeForm": ("membership",),
    "committees.forms:CandidateForm": ("candidate",),
    "committees.forms:CriterionForm": ("vetting_criterion",),
    "committees.forms:CriterionEditForm": ("vetting_criterion",),
    "committees.forms:ElectionForm": ("formation",),
    "committees.forms:FormationForm": ("formation",),
    "committees.forms:SupervisionForm": ("committee_supervision",),
    "committees.forms:EndSupervisionForm": ("committee_supervision",),
    "demands.forms:CategoryForm": ("demand_category",),
    "demands.forms:ChannelForm": ("demand_channel",),
    "demands.forms:StaffDemandForm": ("demand",),
    "demands.forms:DispatchForm": ("demand",),
    "demands.forms:VisitForm": ("demand",),
    "evaluation.cycle_forms:OpenForm": ("evaluation",),
    "evaluation.result_forms:AppealForm": ("appeal",),
    "evaluation.standard_forms:StandardForm": ("standard",),
    "evaluation.standard_forms:CategoryForm": ("standard_category",),
    "evaluation.standard_forms:ItemForm": ("standard_item",),
    "evaluation.survey_forms:OpenForm": ("survey",),
    "fees.billing_forms:CreditForm": ("credit_note",),
    "fees.payment_forms:ClaimForm": ("subsidy_claim",),
    "fees.payment_forms:PaymentForm": ("payment",),
    "fees.policy_forms:PolicyForm": ("fee_policy",),
    "fees.policy_forms:AssignForm": ("fee_assignment",),
    "meetings.forms:MeetingForm": ("meeting",),
    "meetings.forms:RecordForm": ("meeting",),
    "meetings.forms:AttendeeForm": ("meeting_attendee",),
    "meetings.forms:AgendaForm": ("agenda_item",),
    "meetings.forms:OutcomeForm": ("agenda_item",),
    "meetings.forms:ActionForm": ("action_item",),
    "meetings.forms:DoneForm": ("action_item",),
    "publicity.forms:EntryForm": ("ledger_entry",),
    "publicity.check_forms:ObjectionForm": ("objection",),
    "publicity.check_forms:AnswerForm": ("objection",),
    "publicity.check_forms:RequirementForm": ("publicity_requirement",),
    "hiring.forms:SelectionForm": ("selection",),
    "hiring.forms:CandidateForm": ("selection_candidate",),
    "hiring.forms:ApplyForm": ("tender_application",),
    "hiring.forms:PanelForm": ("panel_member",),
    "hiring.forms:RuleForm": ("hiring_rule",),
    "votes.forms:VoteForm": ("owner_vote",),
    "matters.forms:FileForm": ("matter_filing",),
    "votes.forms:PublicizeForm": ("owner_vote",),
    "votes.forms:BallotForm": ("ballot",),
    "votes.forms:FundForm": ("fund_application",),
    "votes.forms:ReviewForm": ("fund_review",),
    "contracts.forms:FilingForm": ("contract_filing",),
    "contracts.forms:NewFilingForm": ("contract_filing",),
    "contracts.forms:RuleForm": ("filing_rule",),
    "exits.forms:RuleForm": ("exit_rule",),
}

_HINT = re.compile(r"（[^）]*(?:可选|选填|必填|例如|逗号分隔|保存时)[^）]*）")


def clean_label(text: str) -> str:
    """A form label as a column name: without input hints, and short."""
    text = _HINT.sub("", str(text)).strip()
    if len(text) > 12 and "（" in text:
        text = text.split("（", 1)[0].strip()
    return text


def _form_classes():
    """Every form class of the product defined at module level (not built per request)."""
    seen, todo = [], list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        module = sys.modules.get(cls.__module__)
        if (cls.__module__.startswith("wuye_saas.") and getattr(module, cls.__name__, None) is cls
                and cls not in seen):
            seen.append(cls)
    return sorted(seen, key=lambda c: (c.__module__, c.__name__))


def _fields(form) -> dict[str, str]:
    out = {}
    for klass in reversed(form.__mro__):
        for name, field in vars(klass).items():
            if isinstance(field, UnboundField):
                text = field.kwargs.get("label") or (field.args[0] if field.args else None)
                if text:
                    out[name] = clean_label(text)
    return out


@cache
def form_labels() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """({entity: {field: label}} of the forms that edit an entity, {field: label} of the fields
    labelled the same in every form). Read once the app has imported every form module."""
    by_entity: dict[str, dict[str, str]] = {}
    everywhere: dict[str, set[str]] = {}
    mapped = {res.form: (res.model.__tablename__,) for res in RESOURCES}
    for form in _form_classes():
        fields = _fields(form)
        key = f"{form.__module__.removeprefix('wuye_saas.')}:{form.__name__}"
        for entity in mapped.get(form, FORM_ENTITIES.get(key, ())):
            for name, text in fields.items():
                by_entity.setdefault(entity, {}).setdefault(name, text)
        for name, text in fields.items():
            everywhere.setdefault(name, set()).add(text)
    same = {name: texts.pop() for name, texts in everywhere.items() if len(texts) == 1}
    return by_entity, same


def _plural_entity(key: str) -> str | None:
    """`streets` → street, `fee_policies` → fee_policy: the counts of a seed or import summary."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if key.endswith(suffix) and key[: -len(suffix)] + repl in ENTITY_LABELS:
            return key[: -len(suffix)] + repl
    return None


def field_label(entity: str, key: str) -> str:
    by_entity, same = form_labels()
    for source in (ENTITY_FIELD_LABELS.get(entity, {}), by_entity.get(entity, {}), FIELD_LABELS, same):
        if key in source:
            return source[key]
    if key.endswith("_id") and key[:-3] in ENTITY_LABELS:
        return ENTITY_LABELS[key[:-3]]
    plural = _plural_entity(key)
    if plural:
        return ENTITY_LABELS[plural] + "数"
    return key


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


# --- coded values ------------------------------------------------------------------------------
_YES_NO = {True: "是", False: "否"}
PARTIES = meetings.PARTIES
VALUE_LABELS: dict[str, dict[str, dict]] = {
    "membership": {"role": ROLE_LABELS},
    "formation": {"kind": committees.FORMATION_KINDS, "status": committees.FORMATION_STATUSES},
    "vetting_criterion": {"group": committees.VETTING_GROUPS},
    "vetting_check": {"result": committees.VETTING_RESULTS},
    "candidate": {"status": committees.CANDIDATE_STATUSES},
    "committee_supervision": {"kind": committees.SUPERVISION_KINDS},
    "household": {"area_source": AREA_SOURCES},
    "ballot_choice": {"choice": votes.CHOICES},
    "demand": {"channel": demands.CHANNELS, "urgency": demands.URGENCIES, "status": demands.STATUSES,
               "assignee_kind": demands.ASSIGNEE_KINDS, "satisfaction": demands.SATISFACTION},
    "demand_event": {"kind": demands.EVENT_KINDS, "channel": demands.CHANNELS,
                     "assignee_kind": demands.ASSIGNEE_KINDS, "satisfaction": demands.SATISFACTION,
                     "level": meetings.LEVELS},
    "meeting": {"level": meetings.LEVELS, "kind": meetings.KINDS, "status": meetings.STATUSES},
    "meeting_cadence": {"level": meetings.LEVELS, "kind": meetings.KINDS, "every": meetings.EVERY},
    "meeting_attendee": {"party": PARTIES},
    "agenda_item": {"outcome": meetings.OUTCOMES, "level": meetings.LEVELS},
    "action_item": {"owner_party": PARTIES},
    "follow_up": {"kind": followups.KINDS, "status": {"open": "待办", "closed": "已办结"}},
    "standard": {"status": evaluation.STANDARD_STATUSES, "unit": evaluation.UNITS},
    "standard_item": {"kind": evaluation.ITEM_KINDS, "method": evaluation.METHODS, "scorer": evaluation.SCORERS,
                      "veto_effect": evaluation.VETO_EFFECTS, "computed_key": COMPUTED_LABELS,
                      "no_survey_rule": evaluation.NO_SURVEY_RULES},
    "evaluation": {"kind": evaluation.CYCLE_KINDS, "status": evaluation.EVALUATION_STATUSES},
    "assessment": {"status": evaluation.ASSESSMENT_STATUSES, "list_kind": evaluation.LISTS,
                   "unit": evaluation.UNITS},
    "appeal": {"status": evaluation.APPEAL_STATUSES},
    "compound_month": {"list_kind": evaluation.LISTS},
    "fee_policy": {"basis": fees.BASES, "gov_mode": fees.GOV_MODES, "status": fees.POLICY_STATUSES,
                   "holdback_kept_to": fees.HOLDBACK_DESTINATIONS},
    "subsidy_claim": {"status": fees.CLAIM_STATUSES},
    "billing_run": {"scope_kind": SCOPE_LABELS},
    "ledger_keeper": {"kind": publicity.LEDGER_KINDS, "keeper": publicity.KEEPERS},
    "ledger_entry": {"kind": publicity.LEDGER_KINDS},
    "fund_allocation": {"basis": publicity.FUND_BASES},
    "publication": {"kind": publicity.PUBLICATION_KINDS},
    "publicity_requirement": {"kind": publicity.PUBLICATION_KINDS, "ledger_kind": publicity.LEDGER_KINDS,
                              "frequency": publicity.FREQUENCIES},
    "objection": {"status": publicity.OBJECTION_STATUSES},
    "owner_vote": {"matter": votes.MATTERS, "status": votes.VOTE_STATUSES},
    "matter_filing": {"matter": votes.MATTERS, "status": FILING_STATUSES},
    "ballot": {"choice": votes.CHOICES},
    "fund_application": {"status": votes.FUND_STATUSES, "applicant": publicity.KEEPERS},
    "fund_review": {"level": votes.REVIEW_LEVELS, "approve": {True: "同意", False: "退回"}},
    "schedule_state": {"name": {p.name: p.label for p in SCHEDULE}},
    "credit_record_kind": {"nature": credit.NATURES},
    "credit_record": {"nature": credit.NATURES, "source": credit.SOURCES},
    "credit_objection": {"status": credit.OBJECTION_STATUSES},
    "firm_exit": {"source": exits.SOURCES, "incoming_kind": exits.INCOMING_KINDS, "status": exits.STATUSES},
    "handover_item": {"kind": exits.ITEM_KINDS, "status": exits.ITEM_STATUSES, "side": exits.SIDES},
    "credit_rule": {"base_source": {"evaluation": "最近一次年度考核总分", "fixed": "固定基础分"}},
    "firm_flag": {"kind": credit.FLAG_KINDS, "list_kind": {**evaluation.LISTS, "veto": "一票否决"}},
    "selection": {"mode": hiring.MODES, "status": hiring.STATUSES, "acting": hiring.ACTING},
    "selection_candidate": {"outcome": hiring.CANDIDATE_OUTCOMES},
    "import": {"kind": {k: v.label for k, v in IMPORT_KINDS.items()}, "table": ENTITY_LABELS},
}
# Keys inside JSON values, whatever the entity.
NESTED_VALUE_LABELS: dict[str, dict] = {"list": evaluation.LISTS, "rule": LIST_RULES}


def value_label(entity: str, key: str, value):
    """The Chinese of a coded value, or the value itself."""
    codes = VALUE_LABELS.get(entity, {}).get(key) or NESTED_VALUE_LABELS.get(key)
    if codes is not None and isinstance(value, (str, bool)):
        return codes.get(value, value)
    if isinstance(value, bool):
        return _YES_NO[value]
    return value


# --- summaries ---------------------------------------------------------------------------------
# The summary of a record whose model has no audit_label or name: its values shown as the log shows
# them (names for ids, Chinese for codes); used when the recorded label is empty or unfinished.
SUMMARIES: dict[str, str] = {
    "household_class_link": "{household_id} · {household_class_id}",
    "vetting_check": "{candidate_id} · {criterion_id}：{result}",
    "demand_event": "{demand_id} · {kind}",
    "demand_photo": "{filename}",
    "evidence": "{filename}",
    "ledger_voucher": "{filename}",
    "appeal": "申诉：{item_id}",
    "survey": "{compound_id}满意度测评",
    "assessment": "{firm_id} {compound_id}",
    "item_score": "{assessment_id} · {item_id}",
    "assessor_assignment": "{item_id} · {membership_id}",
    "fee_policy_grade": "{policy_id} · {grade}",
    "fee_concession": "{policy_id} · {household_class_id} 让利 {percent}%",
    "credit_note": "{bill_id}：{reason}",
    "panel_score": "{application_id} · {member_id}：{points}",
    "ledger_keeper": "{kind}：{keeper}",
    "fund_rule": "首期交存比例 {rate_percent}%",
    "publication": "{title}",
    "publication_check": "已核对：{publication_id}",
    "publicity_requirement": "{kind} · {frequency}",
    "fund_review": "{application_id} · {level}：{approve}",
    "ballot": "{household_id}：{choice}",
    "ballot_choice": "{ballot_id} · {item_id}：{choice}",
    "owner_vote": "{title}",
    "bill": "{household_id} {month}",
    "schedule_state": "{name}",
    "credit_evidence": "{filename}",
    "matter_filing_file": "{filename}",
    "credit_grade": "{firm_id} {quarter_end}：{grade}",
}
