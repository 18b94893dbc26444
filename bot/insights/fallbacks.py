"""The messages the assistant did not understand: scrubbed, and grouped by meaning.

Pure: the caller passes the texts' sentence embeddings (unit vectors from
`bot.encoder.minilm.shared_encoder().encode(texts)`), so no model is loaded here.

Privacy: these are visitors' own words. The page shows them only when asked for
(`details=1`, behind the admin token, never logged), and even then every email address,
phone number, URL and long number in them is replaced by a placeholder, since people
paste those into chat boxes. Without details, a group shows only its size and the topic
the classifier found nearest.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.insights.model import FallbackGroup, FallbackMessage

# Cosine similarity from which two messages count as the same question. MiniLM puts
# paraphrases ("how much is vmware" / "vmware price?") around 0.7-0.9 and unrelated
# questions under 0.4.
SIMILARITY_THRESHOLD = 0.6
EXAMPLES_PER_GROUP = 3
# The most recent messages grouped per page view: the cost of grouping grows with it.
MAX_MESSAGES = 1000

_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b(https?://|www\.)\S+", re.IGNORECASE), "[link]"),
    # Phone numbers: 7 or more digits, with the usual separators between them.
    (re.compile(r"\+?\d[\d\s().-]{5,}\d"), "[number]"),
)
MAX_EXAMPLE_CHARS = 160


def scrub(text: str) -> str:
    """The text with email addresses, links and phone-like numbers replaced, shortened."""
    for pattern, placeholder in _SCRUBS:
        text = pattern.sub(placeholder, text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[:MAX_EXAMPLE_CHARS - 1] + "…"


def group_by_similarity(
    messages: Sequence[FallbackMessage],
    vectors: npt.NDArray[np.float32] | Sequence[Sequence[float]],
    threshold: float = SIMILARITY_THRESHOLD,
    with_examples: bool = False,
) -> list[FallbackGroup]:
    """Greedy grouping: each message joins the most similar group, or starts one.

    A group is compared by its centroid (the normalised mean of its messages), so it
    does not drift with the order the messages come in as much as "join the first
    member" would.

    Args:
        messages: the messages, in the order they came.
        vectors: one unit-length embedding per message.
        threshold: cosine similarity from which a message joins a group.
        with_examples: whether groups carry (scrubbed) example texts.

    Returns:
        The groups, largest first (ties: the group seen first).
    """
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(messages), -1)
    sums: list[npt.NDArray[np.float32]] = []
    members: list[list[int]] = []
    centroids = np.zeros((0, matrix.shape[1]), dtype=np.float32)
    for index, vector in enumerate(matrix):
        if len(members):
            similarity = centroids @ vector
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                members[best].append(index)
                sums[best] = sums[best] + vector
                centroids[best] = sums[best] / (np.linalg.norm(sums[best]) or 1.0)
                continue
        members.append([index])
        sums.append(vector.copy())
        centroids = np.vstack([centroids, vector / (np.linalg.norm(vector) or 1.0)])
    groups = []
    for indices in members:
        nearest = Counter(messages[i].nearest for i in indices).most_common(1)[0][0]
        examples: tuple[str, ...] = ()
        if with_examples:
            seen = dict.fromkeys(scrub(messages[i].text) for i in indices)
            examples = tuple(t for t in seen if t)[:EXAMPLES_PER_GROUP]
        groups.append(FallbackGroup(count=len(indices), nearest=nearest, examples=examples))
    return sorted(groups, key=lambda g: -g.count)
