"""Imports every model module so metadata is complete (Alembic, create_all, tests)."""
from .audit import AuditEvent  # noqa: F401
from .auth.models import LoginLock, LoginSession, Membership, User  # noqa: F401
from .jobs import JobRun  # noqa: F401
from .org.models import *  # noqa: F401,F403
from .tenancy import Tenant  # noqa: F401
from .fees.models import *  # noqa: F401,F403
from .publicity.models import *  # noqa: F401,F403
from .votes.models import *  # noqa: F401,F403
from .demands.models import Demand, DemandCategory, DemandChannel, DemandEvent, DemandPhoto  # noqa: F401
from .meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee, MeetingCadence  # noqa: F401
from .committees.models import (  # noqa: F401
    Candidate, CommitteeSupervision, Formation, VettingCheck, VettingCriterion,
)
from .followups.models import FollowUp  # noqa: F401
from .fourlists.models import FourListItem, FourListUpdate  # noqa: F401
from .volunteers.models import BuildingLeader, PointExchange, Volunteer, VolunteerTask, VolunteerTeam  # noqa: F401
from .indicators.models import CompoundMonth  # noqa: F401
from .jobs.schedule import ScheduleState  # noqa: F401
from .evaluation.models import (  # noqa: F401
    Appeal, Assessment, AssessorAssignment, Evaluation, Evidence, ItemScore, Standard, StandardCategory,
    StandardItem, Survey, SurveyResponse,
)
from .credit.models import (  # noqa: F401
    CreditEvidence, CreditGrade, CreditObjection, CreditRecord, CreditRecordKind, CreditRule,
)
from .contracts.models import ContractFiling, FilingFile, FilingReview, FilingRule  # noqa: F401
from .exits.models import ExitRule, FirmExit, HandoverItem  # noqa: F401
from .matters.models import MatterFiling, MatterRule  # noqa: F401
from .hiring.models import (  # noqa: F401
    HiringRule, PanelMember, PanelScore, Selection, SelectionCandidate, TenderApplication,
)
from .events import DomainEvent  # noqa: F401
from .api.models import ApiClient, ApiRequest  # noqa: F401
from .notifications.models import InboxItem, MessageTemplate, NotifyPreference, OutboxMessage, ProviderConfig  # noqa: F401,E501
from .webhooks.models import WebhookDelivery, WebhookSubscription  # noqa: F401
