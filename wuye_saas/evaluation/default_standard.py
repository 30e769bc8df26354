"""The ready default scoring standard a district can adopt and then change.

Built from the proposed default district configuration (`../shared/domain/default_tenant_config.json`:
scoring_standard, star_rating, red_black_list) and the practice in the seeds and RULES.md. Each
item says where it comes from; "proposal" marks a number the sources do not fix.
Points are strings so the data stays exact (Decimal) and JSON-friendly.
"""
from __future__ import annotations

NAME = "红色物业服务考核评分标准"
TOTAL = "100"
UNIT = "compound"
NOTE = ("依据本区默认配置：青岛量化考核（8大项39小项/100分）、首南街道评价机制、红色物业党建示范评分表、"
        "北京70条/淄博45条公示栏；星级对应山东/烟台信用等级；红黑榜依广元、商丘、连云港做法。")

# Each survey item scores its points × the compound's 满意率 (surveys.py); residents read only the question.
# Without a valid survey: 0 (the items' default no_survey_rule). A valid survey is the firm's duty
# (中物协一级: at least one a year, ≥ 80% satisfied), and the gathered rate of a few answers is
# exactly what the 70% threshold (前期物业服务等级标准一级) exists to keep out.
SURVEY_CRITERION = ("得分 = 满分 × 本小区满意率（满意与基本满意的答案 ÷ 全部答案）；"
                    "答卷户数达到小区总户数70%方为有效，无有效测评的计 0 分。")

# (category, [items]); every regular item's max adds up to the category's weight, and the
# categories to 100 (党建引领 15, 基础服务 40, 信息公开与财务规范 15, 诉求响应与沟通 10, 居民满意度 20 —
# of which the owners' committee opinion 5).
CATEGORIES = [
    ("党建引领", [
        # 红色物业党建示范评分表 (RULES.md): < 3 → 1, 3–5 → 3, > 5 → 5. The config writes
        # ">=5人5分", which overlaps "3-5人" at 5; the score sheet's "> 5" is used.
        {"name": "项目党组织/党员从业人员", "max": "5", "method": "graded", "scorer": "self",
         "evidence": True, "criterion": "项目建立党组织或有党员从业人员，按在岗党员人数计分。",
         "levels": [("党员从业人员少于3人", "1"), ("党员从业人员3至5人", "3"), ("党员从业人员5人以上", "5")]},
        # 北京66: the project manager reports to the community within 3 days of taking the post.
        {"name": "项目负责人到社区报到并参与社区治理", "max": "4", "method": "yesno", "scorer": "community",
         "criterion": "项目负责人到岗3日内到社区报到，并参与社区治理工作。"},
        # 示范评分表; 首南 居业物协同. The levels are a proposal.
        {"name": "双向进入、交叉任职/参加社区会议活动", "max": "6", "method": "graded", "scorer": "self",
         "evidence": True, "criterion": "企业负责人与社区“两委”双向进入、交叉任职，按时参加社区会议和活动。",
         "levels": [("未参加社区会议活动", "0"), ("参加社区会议活动，未交叉任职", "3"),
                    ("交叉任职并按时参加社区会议活动", "6")]},
    ]),
    ("基础服务", [
        # 五保. 青岛量化考核: each non-conformity deducts 1 point; the points per item are a proposal.
        {"name": "保洁（垃圾日产日清等）", "max": "10", "method": "deduction", "per": "1", "scorer": "community",
         "criterion": "公共区域清洁，生活垃圾日产日清、分类投放。每处不符合扣1分，扣完为止。"},
        {"name": "秩序维护/安保", "max": "8", "method": "deduction", "per": "1", "scorer": "community",
         "criterion": "门岗值守、巡逻、车辆停放秩序。每处不符合扣1分，扣完为止。"},
        {"name": "绿化养护", "max": "6", "method": "deduction", "per": "1", "scorer": "community",
         "criterion": "绿地、树木养护及时，无黄土裸露、枯死未补。每处不符合扣1分，扣完为止。"},
        {"name": "共用设施设备（电梯/消防/二次供水）维保", "max": "10", "method": "deduction", "per": "1",
         "scorer": "community", "evidence": True,
         "criterion": "电梯、消防设施、二次供水按规定维保并有记录。每处不符合扣1分，扣完为止。"},
        {"name": "房屋及维修", "max": "6", "method": "deduction", "per": "1", "scorer": "community",
         "criterion": "共用部位巡查、报修及时处理。每处不符合扣1分，扣完为止。"},
    ]),
    ("信息公开与财务规范", [
        # 北京70/淄博45/湖州31 公示栏; scored from the publicity schedule's on-time rate.
        {"name": "公示栏项目齐全及时", "max": "6", "method": "computed", "scorer": "system",
         "key": "publicity_compliance_rate", "criterion": "按本区公示要求按时公示的比例 × 6 分。"},
        # 明码标价规定第6条: the 11 items of a fee notice.
        {"name": "明码标价11项", "max": "3", "method": "yesno", "scorer": "community",
         "criterion": "在小区显著位置公示收费项目、标准等明码标价11项内容。"},
        # law + local: three statements, 2 points each (proposal).
        {"name": "年度收支/预算、公共收益、维修资金使用公示", "max": "6", "method": "deduction", "per": "2",
         "scorer": "community",
         "criterion": "按期公示年度收支和预算、公共收益收支、维修资金使用情况。每缺一项扣2分。"},
    ]),
    ("诉求响应与沟通", [
        # 前期物业服务等级标准一级: complaints answered within 2 days — the on-time rate of demands.
        {"name": "投诉2日内答复", "max": "5", "method": "computed", "scorer": "system",
         "key": "demand_on_time_rate", "criterion": "居民诉求按时答复办结的比例 × 5 分。"},
        # 聊城38: an owners' forum at least every half year; unadopted suggestions explained within 7 days.
        {"name": "每半年≥1次业主座谈，不采纳7日内说明", "max": "5", "method": "yesno", "scorer": "self",
         "evidence": True, "criterion": "每半年至少召开1次业主座谈会；对未采纳的意见7日内书面说明。"},
    ]),
    ("居民满意度", [
        # 20 points of resident and owner opinion. The config's cadence gives the half-yearly
        # survey 0.3 and the owners' committee opinion 0.1 of the annual result; the category
        # keeps the config's 20 and splits it in that ratio: 15 by the survey, 5 by the committee.
        # The survey asks four questions (the services residents see, then overall) of 3.75
        # each; a survey covering ≥ 70% of households is valid (前期物业服务等级标准一级);
        # 满意率 80% = 中物协一级 service; without a valid survey an item counts 0.
        {"name": "环境卫生满意度", "max": "3.75", "method": "computed", "scorer": "survey",
         "question": "您对小区公共区域的卫生保洁和垃圾清运是否满意？", "criterion": SURVEY_CRITERION},
        {"name": "安全秩序满意度", "max": "3.75", "method": "computed", "scorer": "survey",
         "question": "您对小区门岗值守、安全巡逻和车辆停放秩序是否满意？", "criterion": SURVEY_CRITERION},
        {"name": "报修维修满意度", "max": "3.75", "method": "computed", "scorer": "survey",
         "question": "您对物业报修的响应速度和维修质量是否满意？", "criterion": SURVEY_CRITERION},
        {"name": "总体满意度", "max": "3.75", "method": "computed", "scorer": "survey",
         "question": "总体来看，您对本小区的物业服务是否满意？", "criterion": SURVEY_CRITERION},
        # owners_committee_opinion (proposal in the config): the compound's committee scores its firm.
        {"name": "业主委员会履约评价", "max": "5", "method": "points", "scorer": "committee",
         "criterion": "本小区业主委员会对物业服务企业履行物业服务合同情况的评价，0 至 5 分并写明意见；"
                      "社区审核完成前未评价的计 0 分。"},
    ]),
]

# 扬州信用标准: honours add +5…+1 by level; the bonus is capped at 5.
BONUS_CAP = "5"
BONUS_ITEMS = [
    {"name": "表彰荣誉加分", "max": "5", "method": "graded", "scorer": "self", "evidence": True,
     "criterion": "考核期内获得的表彰荣誉，按最高一项计分。",
     "levels": [("无", "0"), ("街道（镇）级", "1"), ("区（县）级", "2"), ("市级", "3"), ("省级", "4"),
                ("国家级", "5")]},
]

# 一票否决: 扬州 (maintenance fund, refusing to leave); the 红黑榜 black-list cases (accidents,
# group petitions caused by the firm). Each forces 0 points, 0 stars and the 黑榜.
VETO_ITEMS = [
    {"name": "挪用/骗取/套取维修资金", "criterion": "挪用、骗取、套取专项维修资金。"},
    {"name": "合同终止拒不退出", "criterion": "物业服务合同终止后拒不退出、拒不移交。"},
    {"name": "物业原因致安全事故/群访", "criterion": "因物业服务原因导致安全责任事故或群体性上访。"},
]

# 山东/烟台信用等级 AAA ≥ 85, AA 80–85, A 70–80, B 60–70, C < 60 → 5…1 stars.
STAR_BANDS = [{"stars": 5, "min": "85"}, {"stars": 4, "min": "80"}, {"stars": 3, "min": "70"},
              {"stars": 2, "min": "60"}, {"stars": 1, "min": "0"}]

# 商丘 AAA → 红榜 (5★); 商丘 C 以下 / 广元 B 及以下 → 黑榜 (≤ 2★), as is any 一票否决.
# 黄榜 (淮南 红黄榜) for 3★ below 75 is a proposal. Written as "below 75" alone: 4★ and 5★
# start at 80, and ≤ 2★ is black, which outranks yellow — so it is exactly 3★ under 75.
LIST_RULES = [
    {"list": "red", "rule": "stars_at_least", "value": 5},
    {"list": "yellow", "rule": "score_below", "value": "75", "proposal": True},
    {"list": "black", "rule": "stars_at_most", "value": 2},
    {"list": "black", "rule": "veto"},
]

# 广元: 红榜 with priority; 黑榜/黄榜 with 约谈 and more frequent spot checks. 商丘: black-listed
# firms are barred from awards and tenders; 连云港: they may not bid. 淮南/潞州: exit procedure,
# 优先续约 for the best. The 2 points of 招投标加分 are a proposal (the seeds name the bonus, not
# its size). Kinds: evaluation.models.CONSEQUENCE_KINDS; what each does: credit/consequences.py.
CONSEQUENCES = {"red": [{"kind": "priority_renewal"}, {"kind": "tender_bonus", "points": "2"}],
                "yellow": [{"kind": "interview"}, {"kind": "more_spot_checks"}],
                "black": [{"kind": "interview"}, {"kind": "exit_procedure"}, {"kind": "restrict_tender"},
                          {"kind": "restrict_award"}],
                "veto": [{"kind": "interview"}, {"kind": "exit_procedure"}, {"kind": "restrict_tender"},
                         {"kind": "restrict_award"}]}
CONSEQUENCE_SOURCES = {"red": "广元：AA 及以上列入红榜；淮南、潞州：招投标优先、优先续约（加分分值为建议）",
                       "yellow": "广元：约谈并加大抽查频次；淮南：黄榜由社区党组织约谈负责人",
                       "black": "商丘：黑榜企业限制评优与招投标；连云港：黑榜企业不得参与投标；淮南：启动退出程序",
                       "veto": "扬州：挪用维修资金、合同终止拒不退出等一票否决"}

# The config's cadence: monthly spot checks 0.4 of the annual result; the quarterly evaluation
# (0.2), the half-yearly satisfaction survey (0.3) and the owners' committee opinion (0.1) are
# all gathered in the quarterly cycle here (its survey items and the committee's item, which
# the compound's committee scores in the workflow), so the quarterly cycles carry 0.6
# together. The annual cycle itself adds nothing of its own.
CYCLE_WEIGHTS = {"monthly": 40, "quarterly": 60, "annual": 0}
