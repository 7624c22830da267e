"""Settings: every knob comes from the environment (ARCHITECTURE.md section 6).

Two modes:
- embedded (no ``DATABASE_URL``/``REDIS_URL``): SQLite file, in-memory channel layer, Celery tasks
  run in-process. For ``make run`` on a laptop and for quick tests.
- services (``DATABASE_URL`` + ``REDIS_URL``): PostgreSQL, channels-redis, Celery on Redis with a
  separate worker and beat.
"""

import contextlib
import json
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("TESTING", "pytest" in sys.modules)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or TESTING) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "contactcenter.apps.ContactCenterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "channels",
    "contactcenter",
    "contacts",
    "conversations",
    "channels_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "contactcenter.api.throttling.ApiAddressThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "conversations.middleware.AgentPreferencesMiddleware",
    "contactcenter.middleware.NullCharacterGuardMiddleware",
    "contactcenter.middleware.DomainErrorMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
CSRF_FAILURE_VIEW = "contactcenter.api.errors.csrf_failure"
ASGI_APPLICATION = "contactcenter.asgi.application"
WSGI_APPLICATION = "contactcenter.wsgi.application"

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
                "django.template.context_processors.i18n",
                "contactcenter.context_processors.demo_mode",
                "conversations.context_processors.agent_state",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
# PostgreSQL connections come from a pool per process (Django's, psycopg_pool): never one
# persistent connection per thread (under ASGI every request has its own thread, and
# CONN_MAX_AGE kept one connection per request until PostgreSQL ran out). Off in the pytest
# process itself; behind PgBouncer in transaction mode, set DATABASE_POOL=0.
DATABASE_POOL = env_bool(
    "DATABASE_POOL", DATABASE_URL.startswith("postgres") and "pytest" not in sys.modules
)
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "8"))
DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", "10"))
# Events must have committed within this many seconds of being appended (see realtime.py);
# PostgreSQL ends sessions idle in a transaction for longer than twice that.
EVENT_SETTLE_SECONDS = int(os.environ.get("EVENT_SETTLE_SECONDS", "15"))


def _database_settings() -> dict:
    if not DATABASE_URL:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3"))},
        }
    # conn_health_checks: pooled connections are checked before use (a PostgreSQL restart costs
    # no request).
    database = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    if database["ENGINE"].endswith("postgresql"):
        options = database.setdefault("OPTIONS", {})
        idle_ms = EVENT_SETTLE_SECONDS * 2000
        options["options"] = f"-c idle_in_transaction_session_timeout={idle_ms}"
        options.setdefault("connect_timeout", 5)
        if DATABASE_POOL:
            options["pool"] = {
                "min_size": 1,
                "max_size": DATABASE_POOL_MAX_SIZE,
                "timeout": DATABASE_POOL_TIMEOUT,
            }
    if os.environ.get("TEST_DATABASE_NAME"):
        database["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
    return database


DATABASES = {"default": _database_settings()}
# A PostgreSQL streaming replica for heavy read-only work (reports): never for what agents see
# live, which must read its own writes.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=0, conn_health_checks=True),
        "TEST": {"MIRROR": "default"},
    }
REPORTS_DATABASE = "replica" if DATABASE_REPLICA_URL else "default"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
RUN_MODE = "services" if (DATABASE_URL and REDIS_URL) else "embedded"

# Redis connections: reads time out well above channels-redis's blocking receive (5 s) so an
# idle socket never dies of a timeout, connections are checked when they sat idle, and a Redis
# that is down is noticed in seconds rather than hanging a request.
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "15"))
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "2"))
CHANNEL_LAYER_GROUP_EXPIRY = int(os.environ.get("CHANNEL_LAYER_GROUP_EXPIRY", "180"))
# Redis connections of the channel layer per process: redis-py's default (100) made sockets
# reconnecting together after a restart fail with "Too many connections" (make bench).
CHANNEL_LAYER_MAX_CONNECTIONS = int(os.environ.get("CHANNEL_LAYER_MAX_CONNECTIONS", "1000"))
REDIS_SENTINELS = [
    (host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1])) for host in env_list("REDIS_SENTINELS")
]
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "mymaster")


def _channel_layer_host() -> dict:
    connection = {
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry_on_timeout": True,
        "max_connections": CHANNEL_LAYER_MAX_CONNECTIONS,
    }
    if REDIS_SENTINELS:
        return {
            "sentinels": REDIS_SENTINELS,
            "master_name": REDIS_SENTINEL_MASTER,
            "sentinel_kwargs": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT},
            **connection,
        }
    return {"address": REDIS_URL, **connection}


if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [_channel_layer_host()],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "asgi"),
                # Sockets re-join their groups on every heartbeat (20 s): a dead consumer's
                # membership lapses after this instead of a day.
                "group_expiry": CHANNEL_LAYER_GROUP_EXPIRY,
                "capacity": 500,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Embedded mode: the beat schedule runs on a thread of the server, and jobs with a countdown (offer
# expiry, send retries) run on timer threads. Both off under the test suite, which drives time.
EMBEDDED_BEAT = env_bool("EMBEDDED_BEAT", not REDIS_URL and not TESTING)
EMBEDDED_DELAYED_JOBS = env_bool("EMBEDDED_DELAYED_JOBS", not REDIS_URL and not TESTING)

CELERY_BROKER_URL = REDIS_URL or "memory://"
if REDIS_SENTINELS:
    CELERY_BROKER_URL = ";".join(f"sentinel://{host}:{port}" for host, port in REDIS_SENTINELS)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
# Workers reconnect to Redis for ever (a restarted Redis is waited for, not fatal); publishing
# from a request gives up fast (the sweeps recover what was not enqueued, see contactcenter.jobs).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_HEARTBEAT = 0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_keepalive": True,
    "health_check_interval": 10,
    "retry_on_timeout": True,
}
if REDIS_SENTINELS:
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
if os.environ.get("CELERY_KEY_PREFIX"):
    # Deployments or test runs sharing one Redis database keep their queues apart (the channel
    # layer's counterpart is CHANNEL_LAYER_PREFIX).
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["CELERY_KEY_PREFIX"]
CELERY_BEAT_SCHEDULER = "contactcenter.health:HeartbeatScheduler"
# Health (/healthz): workers and beat write a heartbeat this often; older than STALE is dead.
HEALTH_HEARTBEAT_SECONDS = float(os.environ.get("HEALTH_HEARTBEAT_SECONDS", "2"))
HEALTH_STALE_SECONDS = int(os.environ.get("HEALTH_STALE_SECONDS", "6"))
HEALTH_KEY_PREFIX = os.environ.get("CELERY_KEY_PREFIX", "cc:")
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(Path(tempfile.gettempdir()) / "contactcenter-beat")
)
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {
    "conversations.tasks.deliver_message": {"queue": "outbound"},
    "contactcenter.tasks.deliver_webhook": {"queue": "outbound"},
    "conversations.tasks.route_service": {"queue": "realtime"},
    "conversations.tasks.expire_offer": {"queue": "realtime"},
    "conversations.tasks.expire_offers": {"queue": "realtime"},
    "conversations.tasks.route_all": {"queue": "realtime"},
    "conversations.tasks.mark_disconnected_agents": {"queue": "realtime"},
    "channels_app.tasks.email_poll_mailbox": {"queue": "outbound"},
    "channels_app.tasks.voice_ring_timeout": {"queue": "realtime"},
    "channels_app.tasks.voice_calls_gone": {"queue": "realtime"},
    "channels_app.tasks.voice_commands_run": {"queue": "realtime"},
    "channels_app.tasks.voice_commands_sweep": {"queue": "realtime"},
}
# Beat: every interval times BEAT_INTERVAL_SCALE (fault tests run the sweeps more often).
BEAT_INTERVAL_SCALE = float(os.environ.get("BEAT_INTERVAL_SCALE", "1"))
_BEAT = {
    "sweep-stuck-outbound": ("conversations.tasks.sweep_outbound", 30.0),
    "prune-events": ("contactcenter.tasks.prune_events", 3600.0),
    "webchat-inactivity": ("channels_app.tasks.webchat_inactivity", 15.0),
    "expire-offers": ("conversations.tasks.expire_offers", 5.0),
    "expire-wrap-ups": ("conversations.tasks.expire_wrap_ups", 10.0),
    "disconnected-agents": ("conversations.tasks.mark_disconnected_agents", 30.0),
    "prune-idempotency-keys": ("contactcenter.tasks.prune_idempotency_keys", 3600.0),
    "webhooks-fan-out": ("contactcenter.tasks.webhooks_fan_out", 5.0),
    "webhooks-sweep": ("contactcenter.tasks.webhooks_sweep", 30.0),
    "route-sweep": ("conversations.tasks.route_all", 15.0),
    "case-follow-ups": ("conversations.tasks.case_follow_ups", 30.0),
    "close-resolved-cases": ("conversations.tasks.close_resolved_cases", 60.0),
    "voice-recordings-retention": ("channels_app.tasks.voice_recordings_expire", 3600.0),
    "voice-calls-gone": ("channels_app.tasks.voice_calls_gone", 15.0),
    "voice-commands-sweep": ("channels_app.tasks.voice_commands_sweep", 30.0),
    "email-poll-mailboxes": (
        "channels_app.tasks.email_poll_mailboxes",
        float(os.environ.get("EMAIL_IMAP_POLL_SECONDS", "60")),
    ),
}
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": max(0.5, seconds * BEAT_INTERVAL_SCALE)}
    for name, (task, seconds) in _BEAT.items()
}

# --- Auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
with contextlib.suppress(OSError):  # whitenoise warns at every request when it is missing
    STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded and received files (email attachments). Never served as static files: they are sent
# only by permission-checked views (the conversation's permission-scoped selector).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Websockets are accepted from this server's own origin (scheme, host and port) and from these
# (and CSRF_TRUSTED_ORIGINS), e.g. https://desk.example.com.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS")
# HSTS (sent on HTTPS responses only): on by default once DEBUG is off.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
TRUST_X_FORWARDED = env_bool("TRUST_X_FORWARDED", False)
if TRUST_X_FORWARDED:
    # Behind a reverse proxy: trust its scheme/host headers (also used to rebuild the URL Twilio
    # signed).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Reverse proxies in front of us that append to X-Forwarded-For: the client address used by rate
# limits and login throttling is the one the outermost trusted proxy saw (0: REMOTE_ADDR).
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "1" if TRUST_X_FORWARDED else "0"))

# Content-Security-Policy on every page (django-csp): no inline script or style anywhere. The chat
# page sets its own (it may be framed by the websites its entry point allows).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling (django-axes): a username is locked out from an address after
# LOGIN_FAILURE_LIMIT wrong passwords, for LOGIN_LOCKOUT_MINUTES (admin -> Axes -> Access
# attempts, or `manage.py axes_reset_username <name>`, unlocks it at once).
AUTHENTICATION_BACKENDS = [
    "contactcenter.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "contactcenter.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "contactcenter.http.client_ip"
AXES_VERBOSE = False

# Demo tools (the SMS outbox's "send as customer" form and its list of locally recorded SMS):
# only in demo mode (`make run` turns it on), and then for supervisors only.
DEMO_MODE = env_bool("DEMO_MODE", False)

# --- REST API ---------------------------------------------------------------------------------
# Integrations authenticate with API tokens (admin -> API tokens; scoped, stored hashed); the
# desktop's own calls use the session (with CSRF). Every error is {"error": {code, message,
# fields}}; requests are throttled per token (or user) and per client address.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "contactcenter.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "contactcenter.api.permissions.TokenHasScope",
    ],
    # Per address: contactcenter.api.throttling.ApiAddressThrottleMiddleware (every request).
    "DEFAULT_THROTTLE_CLASSES": ["contactcenter.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "contactcenter.api.metadata.ApiMetadata",
    "DEFAULT_SCHEMA_CLASS": "contactcenter.api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "contactcenter.api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "contactcenter.api.errors.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per token (or logged-in user) and per client address, e.g. "600/min" ("" turns one
# off). Off under the test suite unless set; the throttling tests set them.
API_THROTTLE_TOKEN_RATE = os.environ.get("API_THROTTLE_TOKEN_RATE", "" if TESTING else "1200/min")
API_THROTTLE_ADDRESS_RATE = os.environ.get(
    "API_THROTTLE_ADDRESS_RATE", "" if TESTING else "600/min"
)
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact Center API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "REST API for integrations (CRMs, bots, PBXs, messengers). Authenticate with "
        "`Authorization: Token <key>` (admin -> API tokens). Errors are "
        '`{"error": {"code", "message", "fields"}}`. Creating POSTs accept an `Idempotency-Key` '
        "header. Changes can be followed with the event feed (`/api/v1/events/`) or outbound "
        "webhooks."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    # <id:...> path parameters (contactcenter.api.fields.IdConverter): 1 to 15 digits.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}},
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "conversations.models.Channel",
        "MessageStatusEnum": "conversations.models.MessageStatus",
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "InteractionStateEnum": "conversations.models.Interaction.State",
        "InteractionDirectionEnum": "conversations.models.Interaction.Direction",
        "OfferStateEnum": "conversations.models.Offer.State",
        "AgentStateEnum": "conversations.models.AgentState",
        "AgentStateChoiceEnum": ["ready", "not_ready", "logged_out"],
        "IdentityKindEnum": "contacts.models.Identity.Kind",
        "WebhookDeliveryStatusEnum": "contactcenter.models.WebhookDelivery.Status",
        "ReplyReportStatusEnum": ["delivered", "read", "failed"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "contactcenter.api.schema.add_error_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
}

# --- Caches -------------------------------------------------------------------------------------
# Shared by every process in services mode (API throttling counts per token across workers).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cc"),
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }

# --- Domain settings --------------------------------------------------------------------------
DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
# Public base URL Twilio should call back (status callbacks); defaults to the request's host.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
# What a caller waiting for an agent (or on hold) hears: Twilio's own hold music by default.
TWILIO_HOLD_MUSIC_URL = os.environ.get(
    "TWILIO_HOLD_MUSIC_URL", "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
)
# A new inbound from a contact joins their conversation closed less than this ago (per channel).
CONTINUATION_WINDOW_SECONDS = {
    "voice": int(os.environ.get("CONTINUATION_WINDOW_VOICE", "600")),
    "chat": int(os.environ.get("CONTINUATION_WINDOW_CHAT", str(12 * 3600))),
    "sms": int(os.environ.get("CONTINUATION_WINDOW_SMS", str(12 * 3600))),
    "email": int(os.environ.get("CONTINUATION_WINDOW_EMAIL", str(30 * 24 * 3600))),
    "api": int(os.environ.get("CONTINUATION_WINDOW_API", str(12 * 3600))),
    "voicemail": int(os.environ.get("CONTINUATION_WINDOW_VOICEMAIL", str(12 * 3600))),
}
# Omnichannel capacity, percent of an agent (per-agent overrides on the agent profile).
# Web calls: how long the customer's widget rings, and the STUN/TURN servers browsers use
# (JSON, RTCIceServer objects, e.g. [{"urls": "turn:turn.example.com:3478", "username": "u",
# "credential": "p"}]). Empty: host candidates only (same network, or loopback in tests).
VOICE_RING_SECONDS = int(os.environ.get("VOICE_RING_SECONDS", "45"))
# A call whose customer's widget or agent's desktop is silent this long (no heartbeat) ends.
VOICE_PARTY_GONE_SECONDS = int(os.environ.get("VOICE_PARTY_GONE_SECONDS", "60"))
WEBRTC_ICE_SERVERS = json.loads(os.environ.get("WEBRTC_ICE_SERVERS", "[]") or "[]")

CAPACITY_SHARE = {"voice": 100, "chat": 25, "sms": 25, "email": 25, "api": 25, "voicemail": 25}
CAPACITY_SPARE_NEEDED = {
    "voice": 50,
    "chat": 25,
    "sms": 25,
    "email": 100,
    "api": 25,
    "voicemail": 100,
}
# A returning customer is offered first to their last agent within this time of the last contact.
ROUTING_CONTINUATION_SECONDS = int(os.environ.get("ROUTING_CONTINUATION_SECONDS", str(24 * 3600)))
# Chats to an agent who just became Ready: at most one per step during the ramp-up interval.
ROUTING_RAMP_UP_SECONDS = int(os.environ.get("ROUTING_RAMP_UP_SECONDS", "0"))
ROUTING_RAMP_UP_STEP_SECONDS = int(os.environ.get("ROUTING_RAMP_UP_STEP_SECONDS", "10"))
SHORT_ABANDON_SECONDS = int(os.environ.get("SHORT_ABANDON_SECONDS", "5"))
# A supervisor assigning a waiting interaction to an agent makes it their offer ("offer": they
# accept it) or their conversation at once ("conversation").
SUPERVISOR_ASSIGN_MODE = os.environ.get("SUPERVISOR_ASSIGN_MODE", "offer")
if SUPERVISOR_ASSIGN_MODE not in ("offer", "conversation"):
    raise ImproperlyConfigured("SUPERVISOR_ASSIGN_MODE must be 'offer' or 'conversation'.")
# Monitoring a conversation writes its timeline line and audit record once per this interval.
SUPERVISOR_MONITOR_LINE_SECONDS = int(os.environ.get("SUPERVISOR_MONITOR_LINE_SECONDS", "1800"))
# Reports: the longest date range one report covers, and rows per page.
REPORT_MAX_DAYS = int(os.environ.get("REPORT_MAX_DAYS", "366"))
MISSED_OFFER_REASON = "missed offer"
DISCONNECTED_REASON = "disconnected"
# Logging in puts an agent Not Ready with this reason (empty: plain Not Ready), unless their
# profile says Ready on login.
AGENT_LOGIN_NOT_READY_REASON = os.environ.get("AGENT_LOGIN_NOT_READY_REASON", "")
# An agent who rejected or missed an interaction is not offered it again for this long, unless
# they went Ready again since (and others who can take it come first anyway).
ROUTING_REOFFER_AFTER_SECONDS = int(os.environ.get("ROUTING_REOFFER_AFTER_SECONDS", "60"))
# A Ready agent whose desktop sent no heartbeat (every ~20 s) for this long becomes Not Ready.
AGENT_DISCONNECT_SECONDS = int(os.environ.get("AGENT_DISCONNECT_SECONDS", "90"))
# API Idempotency-Key records are kept this long; CSV uploads on the page are capped at this size.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
CONTACTS_IMPORT_MAX_BYTES = int(os.environ.get("CONTACTS_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
# The Active Conversations list shows the customer's wait in red past this many seconds.
AGENT_REPLY_THRESHOLD_SECONDS = int(os.environ.get("AGENT_REPLY_THRESHOLD_SECONDS", "60"))
EVENT_RETENTION_HOURS = int(os.environ.get("EVENT_RETENTION_HOURS", "72"))
OUTBOUND_MAX_RETRIES = int(os.environ.get("OUTBOUND_MAX_RETRIES", "6"))
OUTBOUND_STUCK_SECONDS = int(os.environ.get("OUTBOUND_STUCK_SECONDS", "120"))
# Web chat (channels_app.webchat). Per entry point overrides live in WebChatSettings.
WEBCHAT_TOKEN_MAX_AGE_SECONDS = int(
    os.environ.get("WEBCHAT_TOKEN_MAX_AGE_SECONDS", str(30 * 24 * 3600))
)
WEBCHAT_INACTIVITY_SECONDS = int(os.environ.get("WEBCHAT_INACTIVITY_SECONDS", "600"))
WEBCHAT_MAX_MESSAGE_LENGTH = int(os.environ.get("WEBCHAT_MAX_MESSAGE_LENGTH", "2000"))
# At most WEBCHAT_RATE_LIMIT messages per visitor per WEBCHAT_RATE_WINDOW_SECONDS.
WEBCHAT_RATE_LIMIT = int(os.environ.get("WEBCHAT_RATE_LIMIT", "20"))
WEBCHAT_RATE_WINDOW_SECONDS = int(os.environ.get("WEBCHAT_RATE_WINDOW_SECONDS", "60"))
# A customer waiting in a chat queue whose widget is gone (no socket) for this long leaves it.
WEBCHAT_QUEUE_ABANDON_SECONDS = int(os.environ.get("WEBCHAT_QUEUE_ABANDON_SECONDS", "60"))
# Estimated wait before anyone was answered today: each customer ahead counts this long.
QUEUE_AVERAGE_HANDLE_SECONDS = int(os.environ.get("QUEUE_AVERAGE_HANDLE_SECONDS", "180"))

# Email (channels_app.email). Mailboxes are email entry points with their own IMAP/SMTP settings
# (admin -> Channels -> Entry points); the EMAIL_* SMTP settings below are the default for entry
# points without their own SMTP server. Neither configured: outbound email goes to the local
# outbox page (/channels/outbox/).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not env_bool("EMAIL_USE_SSL", False))
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "contact-center@localhost")
# The shared secret an email service sends in the X-Email-Secret header when it posts raw MIME to
# /webhooks/email/inbound/. Empty: the webhook refuses everything (403).
EMAIL_INBOUND_SECRET = os.environ.get("EMAIL_INBOUND_SECRET", "")
# Size limits: a whole inbound email, one attachment, and all the attachments of one email (in and
# out). Larger attachments are left out of the stored email and named in its timeline.
EMAIL_MAX_MESSAGE_BYTES = int(os.environ.get("EMAIL_MAX_MESSAGE_BYTES", str(30 * 1024 * 1024)))
EMAIL_ATTACHMENT_MAX_BYTES = int(
    os.environ.get("EMAIL_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))
)
EMAIL_ATTACHMENTS_MAX_BYTES = int(
    os.environ.get("EMAIL_ATTACHMENTS_MAX_BYTES", str(25 * 1024 * 1024))
)
# IMAP: beat polls every mailbox this often; `manage.py email_idle` waits with IMAP IDLE (where
# the server offers it) for at most EMAIL_IMAP_IDLE_SECONDS before polling anyway.
EMAIL_IMAP_POLL_SECONDS = float(os.environ.get("EMAIL_IMAP_POLL_SECONDS", "60"))
EMAIL_IMAP_IDLE_SECONDS = int(os.environ.get("EMAIL_IMAP_IDLE_SECONDS", "300"))
EMAIL_IMAP_TIMEOUT = int(os.environ.get("EMAIL_IMAP_TIMEOUT", "30"))
# The domain of our own Message-IDs (default: the sending mailbox's domain).
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", "")
# Cases: a Resolved conversation closes after this long without a new customer email.
CASE_RESOLVED_CLOSE_SECONDS = int(os.environ.get("CASE_RESOLVED_CLOSE_SECONDS", str(72 * 3600)))
# Per client address: new chats and offline messages at most this many per window (a visitor who
# drops their token is a new visitor, but still the same address).
WEBCHAT_ADDRESS_LIMIT = int(os.environ.get("WEBCHAT_ADDRESS_LIMIT", "10"))
# Prefix of the rate-limit counters in Redis (deployments or test runs sharing a Redis database).
RATE_LIMIT_KEY_PREFIX = os.environ.get("RATE_LIMIT_KEY_PREFIX", "")
WEBCHAT_ADDRESS_WINDOW_SECONDS = int(os.environ.get("WEBCHAT_ADDRESS_WINDOW_SECONDS", "600"))
# The event feed (GET /api/v1/events/) hands out an event only once every transaction that may
# still commit an earlier id has ended; this margin covers clock differences between servers.
EVENT_FEED_CLOCK_MARGIN_SECONDS = float(os.environ.get("EVENT_FEED_CLOCK_MARGIN_SECONDS", "1"))
# Outbound webhooks and the API channel's replies: attempts (transient failures retried with
# capped, jittered exponential backoff), timeout per attempt, and whether URLs may point at
# loopback/private addresses (refused in production unless allowed).
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "5"))
WEBHOOK_RETRY_CAP_SECONDS = float(os.environ.get("WEBHOOK_RETRY_CAP_SECONDS", "600"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_STUCK_SECONDS = int(os.environ.get("WEBHOOK_STUCK_SECONDS", "120"))
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG or TESTING)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
