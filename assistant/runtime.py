"""The long-lived objects of one process: settings, database, encoder, search index."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant._artifacts import ReloadingArtifact
from assistant.config import Settings
from assistant.db import Database
from assistant.errors import ServiceUnavailable
from retrieval import Encoder, HybridIndex, make_encoder, open_chroma_client

if TYPE_CHECKING:
    from assistant.dialogue import Assistant

__all__ = ["Runtime"]


def _load_reranker(directory: Path) -> Any:
    from rankers import Reranker

    return Reranker.load(directory)


def _load_abandonment(directory: Path) -> Any:
    from assistant.behaviour import AbandonmentModel

    return AbandonmentModel.load(directory)


def _load_image_embedder(kind: str, settings: Settings) -> Any:
    import vision

    if kind == "histogram":
        return vision.HistogramEmbedder()
    if kind == "cnn-imagenet":
        return vision.CnnEmbedder()
    if kind == "cnn-finetuned":
        return vision.FinetunedEmbedder.load(vision.default_head_dir(settings.data_dir))
    return vision.load_default_embedder(settings.data_dir)


log = logging.getLogger("shopassist")


class Runtime:
    """Everything a request or a CLI command needs, built once from the settings."""

    def __init__(self, settings: Settings, *, encoder: Encoder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        self.encoder = encoder or make_encoder(settings.encoder)
        client = open_chroma_client(
            path=None if settings.chroma_url else Path(settings.resolved_chroma_path), url=settings.chroma_url
        )
        self.index = HybridIndex(
            encoder=self.encoder,
            client=client,
            collection=settings.chroma_collection,
            index_dir=settings.index_dir,
            fusion=settings.fusion,
            alpha=settings.fusion_alpha,
            max_inmemory_vectors=settings.max_inmemory_vectors,
        )

        from assistant.images import ImageIndex, UploadStore

        self._image_embedder: Any = None
        self._image_embedder_lock = threading.Lock()
        from vision import FeatureCache

        self.feature_cache = FeatureCache(settings.data_dir / "cache" / "vision")
        self.images = ImageIndex(
            client=client,
            # the photo vectors of this store's catalog: a second store on one Chroma server keeps its own
            collection="product_images"
            if settings.chroma_collection == "products"
            else f"{settings.chroma_collection}_images",
            index_dir=settings.index_dir / "images",
            embedder=self.image_embedder,
            feature_cache=self.feature_cache,
        )
        self.uploads = UploadStore(settings.resolved_uploads_dir, self.image_embedder)

        from assistant.commerce import OrderWebhook

        self.order_webhook = OrderWebhook.from_settings(settings)
        self.alert_webhook = (
            OrderWebhook(settings.alert_webhook_url, secret=settings.alert_webhook_secret)
            if settings.alert_webhook_url
            else None
        )
        from assistant.prices import PriceService
        from assistant.ratelimit import RateLimits

        self.rate_limits = RateLimits(
            per_ip=settings.rate_limit_per_ip,
            per_session=settings.rate_limit_per_session,
            storage_uri=settings.rate_limit_storage_uri,
        )

        self.prices = PriceService(self.db, self.pricing_path)
        from assistant.recommend import Recommender

        self.recommender = Recommender(self.index, self.recommender_path)
        self._reranker: ReloadingArtifact[Any] = ReloadingArtifact(self.reranker_path, _load_reranker)
        self._abandonment: ReloadingArtifact[Any] = ReloadingArtifact(
            self.abandonment_path, _load_abandonment, marker="config.json"
        )
        from assistant.observability import Metrics

        self.metrics = Metrics()
        self._assistant: Any = None
        self._assistant_lock = threading.Lock()

    @property
    def nlu_path(self) -> Path:
        return self.settings.models_dir / "nlu"

    @property
    def reranker_path(self) -> Path:
        """The search re-ranker trained on this shop's catalog (``shopassist train reranker``)."""
        return self.settings.models_dir / "reranker"

    @property
    def reranker(self) -> Any:
        """The search re-ranker, or None until one is trained (search then keeps the hybrid order)."""
        return self._reranker.get()

    @property
    def abandonment_path(self) -> Path:
        """The abandonment model trained on the turn logs (``shopassist train abandonment``)."""
        return self.settings.models_dir / "abandonment"

    @property
    def abandonment(self) -> Any:
        """The abandonment model, or None until one is trained (turns then carry no risk)."""
        return self._abandonment.get()

    @property
    def vision_path(self) -> Path:
        """The image embedder's projection head, fine-tuned here (``shopassist train vision``)."""
        from vision import default_head_dir

        return default_head_dir(self.settings.data_dir)

    def reset_image_embedder(self) -> None:
        """Forget the loaded embedder (a new head was trained): the next use loads it again."""
        with self._image_embedder_lock:
            self._image_embedder = None

    def image_embedder(self) -> Any:
        """The image embedder the settings ask for, loaded on first use (the CNN takes a second)."""
        if self._image_embedder is None:
            with self._image_embedder_lock:
                if self._image_embedder is None:
                    self._image_embedder = _load_image_embedder(self.settings.image_embedder, self.settings)
        return self._image_embedder

    @property
    def pricing_path(self) -> Path:
        """The price forecaster (``shopassist train pricing``)."""
        return self.settings.models_dir / "pricing"

    @property
    def recommender_path(self) -> Path:
        """The sequential model trained on this shop's interaction log."""
        return self.settings.models_dir / "recommender" / "live"

    @property
    def assistant(self) -> Assistant:
        """The conversation engine, with the NLU model loaded on first use."""
        if self._assistant is None:
            with self._assistant_lock:
                if self._assistant is None:
                    from assistant.dialogue import Assistant
                    from assistant.nlu import NLUModel, NLUModelError

                    try:
                        nlu = NLUModel.load(self.nlu_path, threads=1)
                    except (NLUModelError, OSError) as exc:
                        raise ServiceUnavailable(
                            f"the NLU model is not ready ({exc}); run `shopassist train nlu` or `make run`",
                            code="nlu_model_missing",
                        ) from None
                    responder = None
                    if self.settings.llm:  # LangChain is imported only when SHOPASSIST_LLM names a model
                        from assistant.llm.responder import build_responder

                        responder = build_responder(self)
                    self._assistant = Assistant(
                        db=self.db,
                        index=self.index,
                        nlu=nlu,
                        order_webhook=self.order_webhook,
                        recommender=self.recommender,
                        reranker=self._reranker.get,
                        abandonment=self._abandonment.get,
                        prices=self.prices,
                        images=self.images,
                        uploads=self.uploads,
                        on_turn=self.metrics.observe_turn,
                        responder=responder,
                    )
        assistant: Assistant = self._assistant
        return assistant

    def close(self) -> None:
        for hook in (self.order_webhook, self.alert_webhook):
            if hook is not None:
                hook.close()
        self.index.close()
        self.db.dispose()
