"""Settings shared by every environment. Everything a deployment changes comes from the environment.

Embedded defaults need no server: SQLite in var/, a filesystem Celery broker in var/celery/,
e-mail to the console. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_broker, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for core.forms.FormRenderer (FORM_RENDERER below)
    "rest_framework",
    "knox",  # API tokens hashed at rest (#21.11)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "treebeard",
    "core",
    "organizations",
    "members",
    "activities",
    "assessments",
    "audit",
    "notifications",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "audit.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.session_middleware.IdleSessionMiddleware",  # idle timeout, saved at most once a minute
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.idempotency.OnceTokenMiddleware",  # a page form's one-time token: a double tap runs once
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.navigation",
                "accounts.display.display",
                "core.context_processors.site",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

# One template per form field and one per form for every page form (core.forms.FormRenderer).
FORM_RENDERER = "core.forms.FormRenderer"

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# The one language of the site: LocaleMiddleware then serves Simplified Chinese whatever the
# browser asks for (an English phone, a zh-TW browser), messages from Django and DRF included.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    BASE_DIR / "static",
]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: attachments go through an access-checked view

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 1800, minimum=60)
# The idle timeout slides without a write per request: accounts.session_middleware saves an
# unchanged session at most once a minute (REFRESH_SECONDS), so it ends 29–30 minutes after the last request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "党建工作管理系统 <noreply@localhost>")

# --- REST API -------------------------------------------------------------------------------
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ScopedPermission"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "党建工作管理系统 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
        "core.api.schema.drop_storage_integer_bounds",
    ],
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL", "filesystem://")
# Redis redelivers a task taken by a worker that died (kill -9, lost host) after this many
# seconds. It must exceed the longest hard time limit (CELERY_TASK_TIME_LIMIT, 30 min; measured
# durations in docs/operations.md), or a task still running would be handed to a second worker;
# any longer only delays redelivery. tests/dashboard/test_outbox.py checks every task against it.
# The nightly summary rebuild's hard time limit (soft: 60 s less). 1,500 s serves up to about 3.5
# million member records (measured 1,241 s at 3M, docs/scaling.md); a larger province raises it,
# and the visibility timeout follows it unless set.
PB_DASHBOARD_REBUILD_SECONDS = env_int("PB_DASHBOARD_REBUILD_SECONDS", 1500, minimum=300)
PB_BROKER_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT", max(1920, PB_DASHBOARD_REBUILD_SECONDS + 420), minimum=60
)
# A timeout below the rebuild's limit is reported by `check --deploy` (dashboard.E001); tests set
# a short one on purpose to see redelivery.
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery" / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # Every folder kombu's filesystem transport writes is under VAR_DIR (its exchange table
    # defaults to ./control in the working directory otherwise).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": PB_BROKER_VISIBILITY_TIMEOUT,
        # Each worker looks for expired unacknowledged tasks every 10 s (kombu's default scans only
        # every tenth time, so redelivery came up to 100 s after the timeout): a dead worker's task
        # is handed on within CELERY_VISIBILITY_TIMEOUT + 10 s (tests/dashboard/test_outbox_faults.py).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep Django's root logger and its personal-data filter in workers (#21.16; config/celery.py too).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# The beat schedule lives in code; exactly one beat process runs it (see README).
CELERY_BEAT_SCHEDULE: dict = {
    "clear-expired-sessions": {
        "task": "organizations.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # Quarterly inspection reports (季度督查报告) for the quarter just ended, on its first day.
    "assessments-quarterly-reports": {
        "task": "assessments.quarterly_reports",
        "schedule": crontab(minute=30, hour=2, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # Rewrite the dashboards' summary tables (repairs drift, turns dated items overdue).
    "dashboard-rebuild": {
        "task": "dashboard.rebuild",
        "schedule": crontab(hour=1, minute=30),
    },
}
# --- Dashboards: the outbox of the summary tables ----------------------------------------------
# Dirty marks are written with each change and drained after the commit; the sweeper drains what a
# failed or lost refresh left, and queues a requested rebuild whose task was lost.
PB_DASHBOARD_SWEEP_SECONDS = env_int("PB_DASHBOARD_SWEEP_SECONDS", 120, minimum=10)
# The drain runs this many seconds after the commit that queued it, and commits meanwhile share it
# (dashboard.outbox._queue_drain, #20.3): the summary figures follow a change within a few seconds.
PB_DASHBOARD_DRAIN_DELAY_SECONDS = env_int("PB_DASHBOARD_DRAIN_DELAY_SECONDS", 2, minimum=0)
# The dashboard API's answer for readers of a whole subtree is kept in the shared (Redis) cache until
# a fact or an organization changes (dashboard.answers); this is the longest it is kept. 0: never kept.
PB_DASHBOARD_ANSWER_SECONDS = env_int("PB_DASHBOARD_ANSWER_SECONDS", 300, minimum=0)
# A dashboard says "数据更新中" while marks older than this wait for its subtree.
PB_DASHBOARD_STALE_MINUTES = env_int("PB_DASHBOARD_STALE_MINUTES", 5, minimum=1)
CELERY_BEAT_SCHEDULE["dashboard-sweep"] = {"task": "dashboard.sweep", "schedule": float(PB_DASHBOARD_SWEEP_SECONDS)}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # request_id: the X-Request-ID of the request being served ("-" outside one), so a client's
    # error answer can be found in the server log.
    # LOG_FORMAT=json (production's default): one JSON object per line (audit.logging.JsonFormatter).
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "audit.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": env_str("LOG_FORMAT", "plain")}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domain settings (../shared/domain-rules.md; local practice is configurable) -------------
# Committee term length in years by organization type (RQ 2018, ZB §21). Village and community
# organizations use 5 years for every type.
PB_TERM_YEARS = {"committee": 5, "general_branch": 3, "branch": 3, "joint_branch": 3}
PB_TERM_YEARS_VILLAGE = 5
PB_TERM_WARNING_MONTHS = env_int("PB_TERM_WARNING_MONTHS", 6, minimum=1)
PB_COMMITTEE_REQUIRED_AT = 7  # 正式党员 (ZB, JG §7)
PB_BRANCH_SIZE_LIMIT = 50  # members; above it suggest splitting (ZB)

# --- Field encryption (members' 公民身份号码 and phone; members/crypto.py) --------------------
# "v2:<base64url 32-byte key>,v1:<…>": the first key encrypts, all decrypt. Empty = derived from
# SECRET_KEY (development only; set both explicitly in production).
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
FIELD_HASH_KEY = env_str("FIELD_HASH_KEY", "")

# --- 党费 and 发展党员 (members issue: dues and development; domain-rules §5, §6) ---------------
# Rounding of computed dues: "cent" (half-up to 0.01 yuan, default), "jiao" (half-up to 0.1) or
# "yuan_up" (只入不舍 to a whole yuan). No central rule; units differ (§5).
PB_DUES_ROUNDING = env_str("PB_DUES_ROUNDING", "cent")
if PB_DUES_ROUNDING not in {"cent", "jiao", "yuan_up"}:
    raise ImproperlyConfigured(f"PB_DUES_ROUNDING: expected cent, jiao or yuan_up, got {PB_DUES_ROUNDING!r}")
PB_DUES_MONTHLY_CAP = env_int("PB_DUES_MONTHLY_CAP", 1000, minimum=1)  # yuan/month unless voluntary (DF17)
PB_DUES_BACKPAY_MONTHS = env_int("PB_DUES_BACKPAY_MONTHS", 6, minimum=0)  # 补交 without approval (DF08 §12)
PB_DUES_ARREARS_WARNING_MONTHS = env_int("PB_DUES_ARREARS_WARNING_MONTHS", 3, minimum=1)
PB_DUES_LAPSE_MONTHS = env_int("PB_DUES_LAPSE_MONTHS", 6, minimum=1)  # consecutive → 自行脱党 flag (DF08 §13)
# 发展党员: committee approval of an admission is due within 3 months of the 支部大会 (FZ); past
# the restart limit (local rule, default 6 months) the admission must be discussed again.
PB_DEV_APPROVAL_WARN_MONTHS = env_int("PB_DEV_APPROVAL_WARN_MONTHS", 3, minimum=1)
PB_DEV_APPROVAL_RESTART_MONTHS = env_int("PB_DEV_APPROVAL_RESTART_MONTHS", 6, minimum=1)
PB_DEV_ATTACHMENT_MAX_BYTES = env_int("PB_DEV_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# API schema names of the dues/development choice sets (one name each, no drf-spectacular W001).
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DuesCategoryEnum": "members.choices.DuesCategory",
        "DuesIncomeKindEnum": "members.dues.rules.IncomeKind",
        "DuesApprovalKindEnum": "members.dues.models.ApprovalKind",
        "DuesPaymentMethodEnum": "members.dues.models.PaymentMethod",
        "DuesRecordedAsEnum": "members.dues.models.RecordedAs",
        "DuesBaseModeEnum": "members.dues.models.BaseMode",
        "DevelopmentStepCodeEnum": "members.development.models.StepCode",
        "DevelopmentDecisionEnum": "members.development.models.Decision",
        "DevelopmentFullOutcomeEnum": "members.development.models.FullOutcome",
    }
)

# --- Security (等保 2.0 level 3; see README "Security") ---------------------------------------
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp", "accounts"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1, "accounts.middleware.AccountSecurityMiddleware"
)
MIDDLEWARE += ["axes.middleware.AxesMiddleware", "accounts.middleware.SecurityHeadersMiddleware"]
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend", "accounts.backends.AccountBackend"]
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "accounts.validators.LocalCommonPasswordValidator"},  # Chinese common passwords (#21.13)
    {"NAME": "accounts.validators.PasswordHistoryValidator"},
]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rest_framework.authentication.SessionAuthentication",
    "accounts.authentication.ExpiringTokenAuthentication",
]
# Two-factor authentication for org_admin, secretary, auditor, sysadmin, secadmin and superusers.
PB_REQUIRE_2FA = env_bool("PB_REQUIRE_2FA", True)
# Defaults of the security policy (the secadmin may change them on the 安全参数 page, within bounds).
PB_PASSWORD_MAX_AGE_DAYS = env_int("PB_PASSWORD_MAX_AGE_DAYS", 90, minimum=1)
PB_PASSWORD_HISTORY = env_int("PB_PASSWORD_HISTORY", 5, minimum=5)
PB_LOCKOUT_FAILURES = env_int("PB_LOCKOUT_FAILURES", 5, minimum=3)
PB_LOCKOUT_COOLOFF_MINUTES = env_int("PB_LOCKOUT_COOLOFF_MINUTES", 30, minimum=10)
PB_DORMANT_DAYS = env_int("PB_DORMANT_DAYS", 90, minimum=30)
PB_SESSION_MAX_HOURS = env_int("PB_SESSION_MAX_HOURS", 12, minimum=1)
PB_AUDIT_RETENTION_DAYS = env_int("PB_AUDIT_RETENTION_DAYS", 190, minimum=190)
# Header the reverse proxy sets with the client address (e.g. HTTP_X_REAL_IP); empty = REMOTE_ADDR.
PB_CLIENT_IP_HEADER = env_str("PB_CLIENT_IP_HEADER", "")
# django-axes: lock per account and, separately, per address; the policy gives limit and cool-off.
AXES_FAILURE_LIMIT = "accounts.policy.axes_failure_limit"
AXES_COOLOFF_TIME = "accounts.policy.axes_cooloff"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True  # only the account's own failures (accounts.lockout, #21.3)
AXES_HANDLER = "accounts.lockout.AccountScopedHandler"
AXES_CLIENT_IP_CALLABLE = "audit.request_context.client_ip"
# API tokens (#21.11): django-rest-knox keeps only a SHA-512 digest and a 15-character lookup prefix.
# The expiry is set per token from the policy's session cap (accounts.services.tokens), not by knox.
REST_KNOX = {"AUTH_HEADER_PREFIX": "Token", "TOKEN_TTL": None, "AUTO_REFRESH": False}
PB_API_TOKENS_PER_USER = env_int("PB_API_TOKENS_PER_USER", 5, minimum=1)  # oldest ends when a login goes over
# Password reset links (#21.14): minutes a link sent to the user stays valid (single use, hashed at rest).
PB_PASSWORD_RESET_MINUTES = env_int("PB_PASSWORD_RESET_MINUTES", 30, minimum=5)
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False  # no usernames (which may be ID or phone numbers) in the logs
OTP_TOTP_ISSUER = "党建工作管理系统"
CELERY_BEAT_SCHEDULE["disable-dormant-accounts"] = {
    "task": "accounts.disable_dormant_accounts",
    "schedule": crontab(hour=2, minute=41),
}
CELERY_BEAT_SCHEDULE["purge-expired-api-tokens"] = {
    "task": "accounts.purge_expired_tokens",
    "schedule": crontab(hour=2, minute=47),
}
CELERY_BEAT_SCHEDULE["purge-expired-audit-events"] = {
    "task": "audit.purge_expired",
    "schedule": crontab(hour=4, minute=7),
}
PB_AUDIT_RETENTION_DAYS_MINIMUM = 190  # 网络安全法 Art. 21: logs kept at least six months
# Audit chain (#21.10): rows are HMAC-SHA256 keyed with AUDIT_HMAC_KEY, which the database never
# holds (empty = derived from SECRET_KEY, development only; production refuses to start without it).
# A signed checkpoint of the chain head is appended daily to a file in AUDIT_CHECKPOINT_DIR (keep it
# on other storage than the database, or ship the log line) and audit_verify compares against it.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", "")
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit")))
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.checkpoint",
    "schedule": crontab(hour=0, minute=5),
}
# Mask ID and mobile numbers in every log line (DATA-6), whatever logs them.
LOGGING.setdefault("filters", {})["personal_data"] = {"()": "audit.logging.PersonalDataFilter"}
LOGGING["filters"]["request_id"] = {"()": "audit.logging.RequestIdFilter"}
LOGGING["handlers"]["console"]["filters"] = ["personal_data", "request_id"]

# Idempotent writes (#17.2): how long a key/form token is remembered, how long a concurrent twin
# waits for the first request before a 409.
PB_IDEMPOTENCY_TTL_HOURS = env_int("PB_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
PB_IDEMPOTENCY_WAIT_SECONDS = env_int("PB_IDEMPOTENCY_WAIT_SECONDS", 10, minimum=0)
PB_IDEMPOTENCY_ABANDONED_SECONDS = env_int("PB_IDEMPOTENCY_ABANDONED_SECONDS", 300, minimum=30)
CELERY_BEAT_SCHEDULE["purge-idempotency-records"] = {
    "task": "core.purge_idempotency_records",
    "schedule": crontab(minute=23),
}

# --- Organizational life (activities) -------------------------------------------------------
# Compliance deadline = last day of the period + this many days (a record finished later is "late").
PB_COMPLIANCE_GRACE_DAYS = env_int("PB_COMPLIANCE_GRACE_DAYS", 0, minimum=0)
PB_STUDY_TARGET_HOURS = 32  # 学时 per member per year (JY §20); shown as progress, never a ranking
# Attachments: JPEG/PNG/PDF checked by content; images re-encoded. Stored under MEDIA_ROOT.
PB_ATTACHMENT_MAX_BYTES = env_int("PB_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
PB_ATTACHMENT_MAX_PIXELS = 40_000_000

# --- Notifications (reminders, inbox, notices) ---------------------------------------------
# The daily reminder scan fans out in batches of this many organizations (one task each).
PB_REMINDER_BATCH_SIZE = env_int("PB_REMINDER_BATCH_SIZE", 500, minimum=1)
# Re-scan every N minutes between 07:00 and 21:59 (0: only once, at 07:00). Scans are idempotent.
PB_REMINDER_RESCAN_MINUTES = env_int("PB_REMINDER_RESCAN_MINUTES", 30, minimum=0)
if PB_REMINDER_RESCAN_MINUTES > 60:
    raise ImproperlyConfigured("PB_REMINDER_RESCAN_MINUTES: must be between 0 and 60")
# Scan once right after the beat starts (a reminder due today shows up within a minute).
PB_REMINDER_SCAN_ON_START = env_bool("PB_REMINDER_SCAN_ON_START", True)
# Absolute links in e-mails and group-chat messages, e.g. https://dangjian.example.gov.cn
PB_SITE_URL = env_str("PB_SITE_URL", "")
# Group-chat robot hosts an org_admin may configure (empty: any public http(s) host). A host that is not
# public (loopback, private, link-local, reserved; core.outbound) is refused unless listed here (#21.7).
# The robot vendors' hosts are the recommended value: qyapi.weixin.qq.com,oapi.dingtalk.com
PB_WEBHOOK_ALLOWED_HOSTS = env_list("PB_WEBHOOK_ALLOWED_HOSTS", [])
# Per-user hourly limits, counted from the audit log and audited when hit (audit.throttle, #21.4/#21.17).
PB_REVEAL_PER_HOUR = env_int("PB_REVEAL_PER_HOUR", 60, minimum=1)
PB_EXACT_SEARCH_PER_HOUR = env_int("PB_EXACT_SEARCH_PER_HOUR", 30, minimum=1)
PB_EXPORT_PER_HOUR = env_int("PB_EXPORT_PER_HOUR", 30, minimum=1)
# Personal channels (#19, docs/notifications.md "Channels"): vendor/gateway hosts that may be
# loopback/private (an intranet 政务短信 gateway, the fakes in tests) must be listed here.
PB_CHANNEL_ALLOWED_HOSTS = env_list("PB_CHANNEL_ALLOWED_HOSTS", [])
PB_SMS = {
    "url": env_str("PB_SMS_URL", ""),
    "method": env_str("PB_SMS_METHOD", "POST"),
    "format": env_str("PB_SMS_FORMAT", "json"),
    "secret": env_str("PB_SMS_SECRET", ""),
    "success_pattern": env_str("PB_SMS_SUCCESS_PATTERN", ""),
    "transient_pattern": env_str("PB_SMS_TRANSIENT_PATTERN", ""),
}
PB_SMS_QUIET_HOURS = (env_int("PB_SMS_QUIET_START", 21, minimum=0), env_int("PB_SMS_QUIET_END", 8, minimum=0))
PB_SMS_MONTHLY_BUDGET = env_int("PB_SMS_MONTHLY_BUDGET", 2000, minimum=0)  # segments per top-level org
PB_WECOM = {
    "base_url": env_str("PB_WECOM_BASE_URL", ""),
    "corp_id": env_str("PB_WECOM_CORP_ID", ""),
    "secret": env_str("PB_WECOM_SECRET", ""),
    "agent_id": env_str("PB_WECOM_AGENT_ID", ""),
}
PB_DINGTALK = {
    "base_url": env_str("PB_DINGTALK_BASE_URL", ""),
    "app_key": env_str("PB_DINGTALK_APP_KEY", ""),
    "app_secret": env_str("PB_DINGTALK_APP_SECRET", ""),
    "agent_id": env_str("PB_DINGTALK_AGENT_ID", ""),
}
PB_NOTIFY_FAULT_PAUSE = env_int("PB_NOTIFY_FAULT_PAUSE_MS", 0, minimum=0) / 1000  # fault tests only
CELERY_BEAT_SCHEDULE["notifications-scan"] = {
    "task": "notifications.run_daily",
    "schedule": crontab(minute=f"*/{PB_REMINDER_RESCAN_MINUTES}", hour="7-21")
    if PB_REMINDER_RESCAN_MINUTES
    else crontab(hour=7, minute=0),
}
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {"task": "notifications.sweep", "schedule": 120.0}

# --- Assessments (star ratings, inspection reports) -----------------------------------------
# A TrueType CJK font for the body text of PDFs ("path" or "path#index"); empty: the vendored
# Noto Serif SC (static/vendor/noto-serif-sc/). No system font is ever looked up.
PB_PDF_FONT = env_str("PB_PDF_FONT", "")
# Prefix for links printed in reports, e.g. https://dangjian.example.gov.cn (empty: site-relative).
PB_REPORT_SITE_URL = env_str("PB_REPORT_SITE_URL", "")
# The deployment's name (login page, header, page titles) and an optional logo: a path under the
# static files (e.g. "brand/logo.png" in STATIC_ROOT or a STATICFILES_DIRS folder), served locally.
PB_SITE_NAME = env_str("PB_SITE_NAME", "党建工作管理系统")
PB_SITE_LOGO = env_str("PB_SITE_LOGO", "")

# Every choice set gets a stable enum name in the OpenAPI schema (drf-spectacular W001 otherwise).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "WebhookKindEnum": "notifications.models.WebhookKind",
    "RunStatusEnum": "notifications.models.RunStatus",
    "NoticeKindEnum": "notifications.models.NoticeKind",
    "NoticeTargetEnum": "notifications.models.NoticeTarget",
    "NoticeAudienceEnum": "notifications.models.NoticeAudience",
    "NotificationCategoryEnum": "notifications.models.NotificationCategory",
    "ChannelEnum": "notifications.models.Channel",
    "OutboxStatusEnum": "notifications.models.OutboxStatus",
    "SchemeStatusEnum": "assessments.choices.SchemeStatus",
    "IndicatorKindEnum": "assessments.choices.IndicatorKind",
    "ScoringMethodEnum": "assessments.choices.ScoringMethod",
    "MappingTypeEnum": "assessments.choices.MappingType",
    "RoundStatusEnum": "assessments.choices.RoundStatus",
    "RatingStatusEnum": "assessments.choices.RatingStatus",
    "StarChangeEnum": "assessments.choices.StarChange",
    "RatingActionEnum": "assessments.choices.RatingAction",
    "DutyReportStatusEnum": "assessments.choices.DutyReportStatus",
    "AssessmentsAppraisalGradeEnum": "assessments.choices.AppraisalGrade",
    "ReportKindEnum": "assessments.choices.ReportKind",
    "ReportStatusEnum": "assessments.choices.ReportStatus",
    "BatchStatusEnum": "assessments.choices.BatchStatus",
    "RectificationStatusEnum": "assessments.choices.RectificationStatus",
    "RectificationSourceEnum": "assessments.choices.RectificationSource",
    "MeetingTypeEnum": "activities.choices.MeetingType",
    "MeetingStatusEnum": "activities.choices.MeetingStatus",
    "QuorumStateEnum": "activities.choices.QuorumState",
    "AttendanceStatusEnum": "activities.choices.AttendanceStatus",
    "ResolutionKindEnum": "activities.choices.ResolutionKind",
    "VotingMethodEnum": "activities.choices.VotingMethod",
    "ResolutionOutcomeEnum": "activities.choices.ResolutionOutcome",
    "FollowUpStatusEnum": "activities.choices.FollowUpStatus",
    "ActivitiesAppraisalGradeEnum": "activities.choices.AppraisalGrade",
    "ComplianceKindEnum": "activities.choices.ComplianceKind",
    "PeriodEnum": "activities.choices.Period",
    "ComplianceStatusEnum": "activities.choices.ComplianceStatus",
    "StudySourceEnum": "activities.choices.StudySource",
    "PlanStatusEnum": "activities.choices.PlanStatus",
    "AttachmentKindEnum": "activities.choices.AttachmentKind",
    "BaseModeEnum": "members.dues.models.BaseMode",
    "ApprovalKindEnum": "members.dues.models.ApprovalKind",
    "RecordedAsEnum": "members.dues.models.RecordedAs",
    "PaymentMethodEnum": "members.dues.models.PaymentMethod",
    "DuesImportStatusEnum": "members.dues.models.ImportStatus",
    "IncomeKindEnum": "members.dues.rules.IncomeKind",
    "StageEnum": "members.choices.Stage",
    "MembershipStatusEnum": "members.choices.MembershipStatus",
    "SexEnum": "members.choices.Sex",
    "DuesCategoryEnum": "members.choices.DuesCategory",
    "EthnicityEnum": "members.choices.Ethnicity",
    "EducationEnum": "members.choices.Education",
    "DegreeEnum": "members.choices.Degree",
    "JobPostEnum": "members.choices.JobPost",
    "TransferKindEnum": "members.choices.TransferKind",
    "TransferStatusEnum": "members.choices.TransferStatus",
    "MembersImportStatusEnum": "members.choices.ImportStatus",
    "StepCodeEnum": "members.development.models.StepCode",
    "DecisionEnum": "members.development.models.Decision",
    "FullOutcomeEnum": "members.development.models.FullOutcome",
    "SanctionKindEnum": "members.discipline.models.SanctionKind",
    "OrgTypeEnum": "organizations.choices.OrgType",
    "UnitRelationEnum": "organizations.choices.UnitRelation",
    "RoleEnum": "core.roles.Role",
    "TermKindEnum": "organizations.choices.TermKind",
    "PositionCodeEnum": "organizations.choices.PositionCode",
}

# 换届选举 (activities/elections): stable enum names in the OpenAPI schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "ElectionStageEnum": "activities.elections.models.ElectionStage",
        "ElectionTimingEnum": "activities.elections.models.ElectionTiming",
        "ElectionPostEnum": "activities.elections.models.Post",
        "ElectionRoundKindEnum": "activities.elections.models.RoundKind",
        "ElectionCountResultEnum": "activities.elections.models.CountResult",
    }
)

# --- Operations: health, cache, queues, read replica (docs/operations.md, issue #18) -------
# Cache: a shared Redis cache when CACHE_URL is set (production.py defaults it); the embedded
# default stays in-process so a laptop needs no server.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Liveness of beat + worker: the beat enqueues core.heartbeat every period; /readyz fails when the
# mark is older than three periods.
PB_HEARTBEAT_SECONDS = env_int("PB_HEARTBEAT_SECONDS", 60, minimum=10)
PB_HEALTH_PING_SECONDS = env_int("PB_HEALTH_PING_SECONDS", 1, minimum=1)
CELERY_BEAT_SCHEDULE["core-heartbeat"] = {"task": "core.heartbeat", "schedule": float(PB_HEARTBEAT_SECONDS)}
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP

# Queues: reports and imports never delay reminders. One worker per queue family in production
# (deploy/); `runall` and the benches consume all of them.
CELERY_TASK_DEFAULT_QUEUE = "default"
PB_CELERY_QUEUES = ["default", "reminders", "reports", "dashboard", "imports"]
CELERY_TASK_ROUTES = {
    "notifications.*": {"queue": "reminders"},
    "assessments.quarterly_reports": {"queue": "reports"},
    "assessments.report_*": {"queue": "reports"},
    "assessments.ledger_*": {"queue": "reports"},
    "dashboard.*": {"queue": "dashboard"},
    "members.import_*": {"queue": "imports"},
    "members.dues_import_*": {"queue": "imports"},
}

# Read replica (core/replica.py): heavy reads go to it when it is up and close behind.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
PB_REPLICA_STICKY_SECONDS = env_int("PB_REPLICA_STICKY_SECONDS", 5, minimum=0)
PB_REPLICA_MAX_LAG_SECONDS = env_int("PB_REPLICA_MAX_LAG_SECONDS", 30, minimum=1)
PB_REPLICA_CHECK_SECONDS = env_int("PB_REPLICA_CHECK_SECONDS", 5, minimum=1)
# Views (URL names) and tasks whose reads are reporting reads: dashboards, drill-down lists,
# exports, inspection reports, 台账, statistics.
PB_REPLICA_VIEWS = frozenset(
    {
        "dashboard:page",
        "dashboard:members",
        "dashboard:members-export",
        "dashboard:orgs",
        "dashboard:orgs-export",
        "members:export",
        "dues:export",
        "activities:compliance",
        "assessments:report-download",
        "api-dashboard",
        "api-dashboard-members",
        "api-dashboard-organizations",
        "api-organization-compliance",
        "inspection-report-pdf",
        "inspection-report-xlsx",
        "api-organization-ledger",
        "api-organization-party-statistics",
        "members:party-statistics",
    }
)
PB_REPLICA_TASKS = frozenset({"assessments.report_generate", "assessments.report_generate_chunk"})
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env_database("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL)
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "core.replica.ReplicaStickinessMiddleware",
    )
# Behind pgbouncer in transaction mode server-side cursors break: DISABLE_SERVER_SIDE_CURSORS=1.
if env_bool("DISABLE_SERVER_SIDE_CURSORS", False):
    for _alias in DATABASES.values():
        _alias["DISABLE_SERVER_SIDE_CURSORS"] = True
