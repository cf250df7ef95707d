"""Settings from the environment (prefix OMNIROUTE_), one object for every service."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramBot(BaseModel):
    tenant: str
    secret_token: SecretStr
    bot_token: SecretStr | None = None  # from BotFather, for sendMessage


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    bus: Literal["local", "kafka"] = Field(
        "local", description="Event log: `local` (SQLite file, one process) or `kafka`."
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_partitions: int = Field(
        6, ge=1, description="Partitions of each topic created on start (unit of router scale-out)."
    )
    kafka_replication_factor: int = Field(1, ge=1, description="Replication of created topics.")
    kafka_topic_prefix: str = Field(
        "", description="Prepended to every topic name, e.g. `staging.` on a shared cluster."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL; default SQLite under the data dir. "
        "PostgreSQL: `postgresql+asyncpg://user:pass@host/db`.",
    )
    data_dir: Path = Field(
        Path(".omniroute"), description="Where the embedded mode keeps its SQLite files."
    )
    host: str = Field("127.0.0.1", description="HTTP listen address.")
    port: int = Field(8000, ge=0, le=65535, description="HTTP listen port.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the JSON logs on stdout."
    )
    max_record_bytes: int = Field(
        1_000_000, ge=1024, description="Largest event record the bus accepts, in bytes."
    )
    demo_tenant: str = Field("demo", description="Tenant id that `omniroute run` creates.")
    bootstrap_admin_key: SecretStr | None = Field(
        None,
        description="The demo tenant's admin API key in `omniroute run`; unset, one is "
        "generated and printed once.",
    )
    bot_confidence: float = Field(
        0.4,
        ge=0,
        le=1,
        description="The built-in bot answers from its FAQ only above this match confidence "
        "(0-1); below, it hands the conversation to a person.",
    )
    bot_max_turns: int = Field(
        3,
        ge=1,
        description="Questions the built-in bot answers in a conversation before a person "
        "takes over.",
    )
    max_webhook_bytes: int = Field(
        1_048_576, ge=1024, description="Largest webhook body accepted (413 above)."
    )
    meta_app_secret: SecretStr | None = Field(
        None, description="Meta app secret: checks X-Hub-Signature-256 on /webhooks/meta."
    )
    meta_verify_token: SecretStr | None = Field(
        None, description="The hub.verify_token Meta sends when the webhook is subscribed."
    )
    meta_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: Page, Instagram account or WhatsApp phone number id -> tenant, "
        'e.g. `{"106540352242922": "acme"}`.',
    )
    twitter_consumer_secret: SecretStr | None = Field(
        None, description="X app consumer secret: CRC answers and x-twitter-webhooks-signature."
    )
    twitter_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: X user id of a subscribed account (for_user_id) -> tenant; in "
        "`omniroute run` every account is the demo tenant's.",
    )
    max_email_bytes: int = Field(
        26_214_400, ge=1024, description="Largest email webhook body accepted (413 above)."
    )
    email_addresses: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: support address -> tenant, e.g. `{"help@acme.com": "acme"}`; in '
        "`omniroute run` every address is the demo tenant's.",
    )
    mailgun_signing_key: SecretStr | None = Field(
        None, description="Mailgun webhook signing key for /webhooks/email/mailgun."
    )
    postmark_basic_auth: SecretStr | None = Field(
        None, description="`user:password` Postmark sends to /webhooks/email/postmark."
    )
    sendgrid_basic_auth: SecretStr | None = Field(
        None,
        description="`user:password` SendGrid Inbound Parse sends to /webhooks/email/sendgrid.",
    )
    email_mime_token: SecretStr | None = Field(
        None, description="Bearer token of /webhooks/email/mime (raw RFC 5322, e.g. from an MTA)."
    )
    chat_widgets: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: web chat widget key -> tenant, e.g. `{"wk_acme_site": "acme"}`; in '
        "`omniroute run` a session without a key is the demo tenant's.",
    )
    chat_idle_s: float = Field(
        120,
        gt=0,
        description="A web chat visitor whose widget has not polled for this long has left: "
        "a conversation still waiting abandons the queue (`CustomerLeft`). The widget polls at "
        "least every 25 s; a phone that freezes a background tab stops it meanwhile.",
    )
    telegram_secret_token: SecretStr | None = Field(
        None, description="In `omniroute run`: the secret_token of the demo tenant's bot `demo`."
    )
    telegram_bot_token: SecretStr | None = Field(
        None, description="In `omniroute run`: the BotFather token of the bot `demo`, to reply."
    )
    telegram_api_base: str = Field(
        "https://api.telegram.org", description="Telegram Bot API base URL (tests use a fake)."
    )
    meta_access_token: SecretStr | None = Field(
        None, description="Meta access token that sends replies (Messenger, Instagram, WhatsApp)."
    )
    meta_graph_base: str = Field(
        "https://graph.facebook.com/v21.0", description="Meta Graph API base URL."
    )
    twitter_user_token: SecretStr | None = Field(
        None, description="OAuth 2.0 user token of the X account that sends direct messages."
    )
    twitter_api_base: str = Field("https://api.x.com", description="X API base URL.")
    smtp_host: str | None = Field(None, description="SMTP server that sends email replies.")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    email_from: str | None = Field(
        None, description="From address of email replies when the support address is unknown."
    )
    delivery_attempts: int = Field(
        6, ge=1, description="Tries of an outbound message before it goes to the dead letters."
    )
    telegram_bots: dict[str, TelegramBot] = Field(
        default_factory=dict,
        description="JSON: bot id in /webhooks/telegram/{bot_id} -> tenant and the webhook "
        'secret_token, e.g. `{"support": {"tenant": "acme", "secret_token": "..."}}`.',
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'omniroute.sqlite3').resolve()}"

    @property
    def local_bus_path(self) -> Path:
        return self.data_dir / "bus.sqlite3"
