"""Production: everything secret or host-specific must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403
from .base import CACHE_URL, FIELD_ENCRYPTION_KEY, FIELD_HASH_KEY, LOGGING, SECRET_KEY

DEBUG = False
if SECRET_KEY.startswith("dev-only") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY: set a random value of at least 50 characters in production")
# The field keys are never derived from SECRET_KEY in production (#21.12): a leaked or rotated
# SECRET_KEY must not decide whether ID numbers can be read.
_missing = [
    name
    for name, value in (("FIELD_ENCRYPTION_KEY", FIELD_ENCRYPTION_KEY), ("FIELD_HASH_KEY", FIELD_HASH_KEY))
    if not value
]
# Every missing secret is named at once, so a deployer fixes the environment in one go.
_problems = []
if _missing:
    _problems.append(
        f"{' and '.join(_missing)}: set in production (they are not derived from SECRET_KEY there). "
        "Generate: FIELD_ENCRYPTION_KEY=v1:<key>, FIELD_HASH_KEY=<key>, each key from "
        'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
    )
# The audit chain key (#21.10) must not be derivable from anything the app's database or code holds.
if len(env_str("AUDIT_HMAC_KEY", "")) < 32:
    _problems.append(
        "AUDIT_HMAC_KEY: set a random value of at least 32 characters in production (audit chain key, "
        "kept outside the database; see docs/security.md)"
    )
if _problems:
    raise ImproperlyConfigured("; ".join(_problems))

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A shared cache across web workers (throttles, lockouts, replica stickiness) and sessions read
# from it: Redis, at CACHE_URL (default: the local Redis, database 1).
if not CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL", "redis://127.0.0.1:6379/1"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# One JSON line per request and per task (docs/operations.md#logs) unless LOG_FORMAT says otherwise.
LOGGING["handlers"]["console"]["formatter"] = env_str("LOG_FORMAT", "json")
# W021 (HSTS preload) is a public-internet concern; these systems run on intranets.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
