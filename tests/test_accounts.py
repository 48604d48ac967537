"""Who-did-it accounts: reading agent/act/target, and pairing conflicting accounts across outlets."""

from __future__ import annotations

import itertools
import random

import pytest

from claimmatch.accounts import Account, extract_account, find_conflicts
from claimmatch.contradict import _camps

from .conftest import FakeEmbedder


@pytest.mark.parametrize("text, agent, act, target", [
    ("The ceasefire has been widely violated by the regime forces.", "regime forces", "violation", "ceasefire"),
    ("Extremist groups keep on breaching the ceasefire agreement in Syria.", "Extremist groups", "violation",
     "ceasefire agreement"),
    ("With the peace process stalled and cease-fire breached by US-backed terrorist groups, patience runs out.",
     "US-backed terrorist groups", "violation", "cease-fire"),
    ("Both extremist groups joined an offensive in an open breach of the ceasefire agreement.",
     "extremist groups", "violation", "ceasefire agreement"),
    ("Syrian government troops were pushing ahead in defiance of the cease-fire agreement.",
     "Syrian government troops", "violation", "cease-fire agreement"),
    ("The minister blamed Saudi Arabia and Turkey for violating the ceasefire, he said.",
     "Saudi Arabia and Turkey", "blame", "violating the ceasefire"),
    ("Rebel groups meanwhile blame the fighting on regime violations.", "regime", "blame", "fighting"),
    ("Russia puts the entire blame for the renewed fighting in and around Aleppo on the US.", "US", "blame",
     "renewed fighting"),
    ("The union accused the company of breaking the wage deal.", "company", "blame", "breaking the wage deal"),
    ("Republicans have blamed the size of the deficit on slow economic conditions.", "slow economic conditions",
     "blame", "size"),
    ("The carmaker blamed the fall in profits on high launch costs for new models.", "high launch costs", "blame",
     "fall"),
])
def test_reads_who_did_what_to_what(text, agent, act, target):
    assert extract_account(text) == Account(agent, act, target)


@pytest.mark.parametrize("text", [
    "The ceasefire came into effect in February.",
    "It was violated.",  # no agent to compare
    "They keep breaching it.",
    "Prices rose by 3% in March.",
    "Pole vaulter Yelena Isinbayeva broke her own indoor world record.",  # a record is not an agreement
    "Balco has been accused by the United States Anti-Doping Agency of being the source.",
    "Nobody can blame him if he does go.",
])
def test_no_account_without_a_violation_frame_and_a_named_agent(text):
    assert extract_account(text) is None


TEXTS = [
    "The truce has been violated by the army.",  # outlet o1
    "Rebel fighters keep breaching the truce.",  # o2: another agent, same target -> conflict
    "The truce was violated by the army.",  # o3: same agent as o1 -> no conflict
    "Rebel fighters keep breaching the tariff rules.",  # o4: another target -> no conflict with o1
    "Rebel fighters keep breaching the truce.",  # o1 again: same outlet as claim 0 -> off by default
]
OUTLETS = ["o1", "o2", "o3", "o4", "o1"]


def test_conflicts_need_same_target_different_agent_and_different_outlets():
    res = find_conflicts(TEXTS, OUTLETS, list(range(len(TEXTS))), FakeEmbedder().encode)
    pairs = set(zip(res.i.tolist(), res.j.tolist(), strict=True))
    assert pairs == {(0, 1), (1, 2), (2, 4)}  # never (0, 2): same agent; (0, 4): same outlet; 3: tariffs


def test_within_outlet_adds_an_outlet_contradicting_itself():
    res = find_conflicts(TEXTS, OUTLETS, list(range(len(TEXTS))), FakeEmbedder().encode, within_outlet=True)
    assert (0, 4) in set(zip(res.i.tolist(), res.j.tolist(), strict=True))


def test_claims_in_one_cluster_are_never_a_conflict():
    res = find_conflicts(TEXTS, OUTLETS, [0, 0, 1, 2, 3], FakeEmbedder().encode)
    assert (0, 1) not in set(zip(res.i.tolist(), res.j.tolist(), strict=True))


def _cut(side, edges):
    return sum(side[a] != side[b] for a, b in edges)


@pytest.mark.parametrize("seed", range(20))
def test_camps_put_the_most_flagged_pairs_across(seed):
    rng = random.Random(seed)
    nodes = list(range(rng.randint(3, 7)))
    edges = {(a, b) for a, b in itertools.combinations(nodes, 2) if rng.random() < 0.5}
    edges |= {(n, n + 1) for n in nodes[:-1]}  # connected
    adj = {n: set() for n in nodes}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    side = _camps(set(nodes), adj)
    best = max(_cut(dict(zip(nodes, bits, strict=True)), edges)
               for bits in itertools.product((0, 1), repeat=len(nodes)))
    # one-flip local search is not exact max-cut, but never worse than half the pairs, and usually optimal
    assert _cut(side, edges) >= max(best - 1, len(edges) / 2)


def test_blockwise_search_finds_the_same_pairs():
    whole = find_conflicts(TEXTS, OUTLETS, list(range(len(TEXTS))), FakeEmbedder().encode)
    blocks = find_conflicts(TEXTS, OUTLETS, list(range(len(TEXTS))), FakeEmbedder().encode, block=2,
                            max_partners=3)
    assert whole.i.tolist() == blocks.i.tolist() and whole.j.tolist() == blocks.j.tolist()
