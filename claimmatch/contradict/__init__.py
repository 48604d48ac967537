"""The contradiction stage: one entry point, :func:`find_contradictions`.

- :mod:`.candidates`: which pairs can become a flagged contradiction (and so get an NLI call);
- :mod:`.who_did_it`: conflicting accounts of who did it, from the claims' frames;
- :mod:`.camps`: topics and their two camps;
- :mod:`.stage`: the entry point, scoring and the contradictions table;
- :mod:`.store`: stored results of ``contradictions --index`` for incremental runs.
"""

from claimmatch.contradict.camps import Topic, assign_topics, topic_label
from claimmatch.contradict.pairs import BOTH_BASIS, NLI_BASIS, PAIR_COLUMNS, PAIR_SCHEMA, WHO_BASIS
from claimmatch.contradict.stage import Contradictions, PairScorer, find_contradictions

__all__ = ["BOTH_BASIS", "NLI_BASIS", "PAIR_COLUMNS", "PAIR_SCHEMA", "WHO_BASIS", "Contradictions", "PairScorer",
           "Topic", "assign_topics", "find_contradictions", "topic_label"]
