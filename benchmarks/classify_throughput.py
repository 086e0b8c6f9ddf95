"""Seed 003's classifier on the engine: a population of 16 review classifiers (vocabulary
5,000, embedding 32, 64 units, input length 200, batch 64) trained as one program against the
same 16 trained one after another by the same engine (same program shape, one member each),
in tokens per second (items x input length x epochs / seconds); and one configuration at the
paper's largest shape (511 units, input length 511) per epoch of IMDB's 25,000 training
reviews, extrapolated from a timed slice.

    .venv/bin/python benchmarks/classify_throughput.py [--quick]

Data: Rotten Tomatoes snippets (built in), tokenised with a vocabulary fitted on them.  Warm
compilation cache: each program is compiled once before it is timed.  Target: population /
sequential >= 1.5x.
"""

from __future__ import annotations

import numpy as np
from _common import best_of, emit, environment, log, parser

from lstmtune.data import Vocabulary, load_labelled
from lstmtune.engine import ModelSpec, PopulationData, TrainSpec, train_population

args = parser(__doc__).parse_args()
N = 256 if args.quick else 1024  # training items
P, L, V, D, U, B = 16, 200, 5000, 32, 64, 64

items = load_labelled("rotten_tomatoes")
texts = items.texts[:N]
vocab = Vocabulary.fit(texts, V)
X = vocab.encode(texts, L)[:, :, None].astype(np.float32)
y = items.labels[:N, None].astype(np.float32)
data = PopulationData(X, y, np.ones(N, bool), X[:64], y[:64])
spec = ModelSpec(units=(U,), timesteps=L, n_features=1, vocab_size=V + 2, embed_dim=D,
                 masked=True)
tspec = TrainSpec(epochs=1, batch_size=B, loss="bce")
hp = {"learning_rate": np.full(P, 1e-3, np.float32)}


def population():
    train_population(spec, tspec, data, seeds=np.arange(P), hparams=hp, bucket=False)


def sequential():
    for m in range(P):
        train_population(spec, tspec, data, seeds=np.array([m]),
                         hparams={"learning_rate": hp["learning_rate"][m:m + 1]})


log("compiling the population and the single-member program")
population()
train_population(spec, tspec, data, seeds=np.array([0]), hparams={"learning_rate": [1e-3]})
log(f"timing {P} members as one population, {N} items x {L} tokens")
t_pop, _ = best_of(population, 1 if args.quick else 2)
log(f"timing {P} members one after another")
t_seq, _ = best_of(sequential, 1)
tokens = P * N * L

# the paper's largest configuration: a slice of batches, extrapolated to 25,000 reviews
S = 128 if args.quick else 640
big = ModelSpec(units=(511,), timesteps=511, n_features=1, vocab_size=V + 2, embed_dim=D,
                masked=True)
Xb = np.zeros((S, 511, 1), np.float32)
Xb[:, :, 0] = np.random.default_rng(0).integers(1, V + 2, size=(S, 511))
big_data = PopulationData(Xb, y[:1].repeat(S, 0) if S <= N else np.zeros((S, 1), np.float32),
                          np.ones(S, bool), Xb[:1], np.zeros((1, 1), np.float32))
one = lambda: train_population(big, tspec, big_data, seeds=np.array([0]),  # noqa: E731
                               hparams={"learning_rate": [1e-3]})
log("compiling the paper's largest shape")
one()
t_big, _ = best_of(one, 1)
per_epoch = t_big * 25_000 / S

emit({"environment": environment(), "items": N, "members": P, "input_length": L,
      "units": U, "population_seconds": t_pop, "sequential_seconds": t_seq,
      "population_tokens_per_s": tokens / t_pop, "sequential_tokens_per_s": tokens / t_seq,
      "ratio": t_seq / t_pop, "target_ratio": 1.5,
      "largest_shape": {"units": 511, "input_length": 511, "batch_size": B,
                        "timed_items": S, "seconds": t_big,
                        "seconds_per_epoch_of_25000": per_epoch}})
