"""Imports every model module so metadata is complete (Alembic, create_all, tests)."""
from .audit import AuditEvent  # noqa: F401
from .auth.models import LoginAttempt, Membership, User  # noqa: F401
from .jobs import JobRun  # noqa: F401
from .org.models import *  # noqa: F401,F403
from .tenancy import Tenant  # noqa: F401
from .fees.models import *  # noqa: F401,F403
from .publicity.models import *  # noqa: F401,F403
from .votes.models import *  # noqa: F401,F403
