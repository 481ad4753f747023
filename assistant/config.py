"""The one place that reads the environment (``SHOPASSIST_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """ShopAssist settings; every field can be set as ``SHOPASSIST_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHOPASSIST_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="database, indexes and trained models")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/shopassist.db"
    )
    chroma_path: Path | None = Field(default=None, description="Chroma PersistentClient folder")
    chroma_url: str | None = Field(default=None, description="http://host:port of a Chroma server")
    chroma_collection: str = "products"
    uploads_dir: Path | None = Field(
        default=None,
        description="uploaded photos; default <data_dir>/uploads (shared storage when scaled out)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    encoder: Literal["minilm", "hashing"] = Field(
        default="minilm", description="text encoder; 'hashing' is a tiny deterministic one for tests"
    )
    image_embedder: Literal["auto", "cnn-finetuned", "cnn-imagenet", "histogram"] = Field(
        default="auto",
        description="image matcher: auto = the fine-tuned CNN when trained, else the ImageNet CNN",
    )
    demo_catalog: Path = Field(default=Path("data/demo/catalog.jsonl"))
    fusion: Literal["rrf", "blend"] = "blend"
    fusion_alpha: float = Field(default=0.4, ge=0, le=1, description="dense weight in the blend")
    max_inmemory_vectors: int = Field(
        default=2_000_000, description="above this, dense search goes to Chroma instead of numpy"
    )
    cors_origins: list[str] = Field(default_factory=list)
    order_webhook_url: str | None = Field(
        default=None, description="POST order.placed / order.cancelled events here (signed, retried)"
    )
    order_webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key for the X-ShopAssist-Signature header"
    )
    rate_limit_per_session: str = Field(
        default="60/minute", description="chat and voice turns per session (limits syntax, e.g. 60/minute)"
    )
    rate_limit_per_ip: str = Field(default="600/minute", description="API requests per client IP")
    rate_limit_storage_uri: str = Field(
        default="memory://", description="where counts live: memory:// (one process) or redis://host:port"
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="POST price_alert.fired events here (signed, retried): the store's mailer sends emails",
    )
    alert_webhook_secret: str | None = Field(default=None, description="HMAC key for alert deliveries")
    alert_sweep_interval_s: float = Field(
        default=300, ge=0, description="the server checks price alerts this often (0 = never; CLI only)"
    )
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="erase conversations idle longer than this (orders stay, scrubbed); unset = keep",
    )
    retention_sweep_interval_s: float = Field(
        default=3600, ge=0, description="the server applies retention_days this often (0 = never; CLI only)"
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest JSON request body (photo uploads: 8 MiB)"
    )
    llm: str | None = Field(
        default=None,
        description=(
            "optional LLM that words the replies: 'ollama:MODEL[@URL]', 'openai:MODEL[@BASE_URL]' or "
            "'package.module:factory' returning a LangChain chat model; unset = the deterministic replies"
        ),
    )
    llm_timeout_s: float = Field(
        default=8.0, gt=0, description="the LLM's time per reply; past it the deterministic reply is sent"
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopassist.db').as_posix()}"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or (self.data_dir / "chroma")

    @property
    def resolved_uploads_dir(self) -> Path:
        return self.uploads_dir or (self.data_dir / "uploads")

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
