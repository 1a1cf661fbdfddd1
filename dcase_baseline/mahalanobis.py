"""Selective Mahalanobis scoring (score: mahalanobis), the successor baseline's MAHALA score.

A vector's residual x - model(x) is cut into its n_frames blocks of n_mels values. One
n_mels x n_mels covariance per domain (source, target; a training clip's domain comes from its
name) is estimated from the blocks of every training clip of that domain, each centred on the
domain's mean block; the target covariance is the source one when there are no target clips.
A clip's score for a domain is mean over i, j of d_i P d_j^T, with d the clip's residual
blocks and P the domain's inverse covariance; that equals mean(d)^T P mean(d), the squared
Mahalanobis norm of the clip's MEAN residual block. The clip's score is the smaller of its two.

The model is anything with predict_on_batch; NumPy only.
"""
import numpy as np

from dcase_baseline import scoring
from dcase_baseline.errors import BaselineError

DOMAINS = ("source", "target")


def _residual_blocks(model, stacks):
    """(owner clip of each block, residual blocks in float64), batch by batch."""
    n_mels = stacks.frames.shape[1]
    for begin, x, y in scoring.predictions(model, stacks, stacks.starts, scoring.BATCH_VECTORS):
        residual = x.astype(np.float64) - y.astype(np.float64)
        owners = np.repeat(stacks.owners[begin:begin + len(x)], stacks.n_frames)
        yield owners, residual.reshape(-1, n_mels)


def _add_per_clip(sums, owners, blocks):
    """sums[owner] += block for every block; the owners come sorted, in runs."""
    first = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    sums[owners[first]] += np.add.reduceat(blocks, first, axis=0)


def clip_mean_residuals(model, stacks, clip_domains=None):
    """Each clip's mean residual block (n_clips, n_mels); with clip_domains (a domain per clip),
    also {domain: (sum of b b^T, sum of b, number of blocks)} over that domain's blocks, in the
    same pass."""
    n_mels = stacks.frames.shape[1]
    sums = np.zeros((stacks.n_clips, n_mels))
    scatter = {d: [np.zeros((n_mels, n_mels)), np.zeros(n_mels), 0] for d in DOMAINS}
    for owners, blocks in _residual_blocks(model, stacks):
        _add_per_clip(sums, owners, blocks)
        if clip_domains is None:
            continue
        for domain, found in scatter.items():
            mine = blocks[np.asarray(clip_domains)[owners] == domain]
            found[0] += mine.T @ mine
            found[1] += mine.sum(axis=0)
            found[2] += len(mine)
    counts = np.bincount(stacks.owners, minlength=stacks.n_clips) * stacks.n_frames
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means, (scatter if clip_domains is not None else None)


def covariances(scatter, shrinkage=0.0):
    """{domain: covariance} from clip_mean_residuals' scatter: centred on the domain's mean
    block, divided by the number of blocks - 1, shrunk to (1-s) C + s tr(C)/n I; the target
    takes the source's when it has no blocks."""
    found = {}
    for domain, (outer, total, n) in scatter.items():
        if n < 2:
            continue
        mean = total / n
        covariance = (outer - n * np.outer(mean, mean)) / (n - 1)
        size = len(covariance)
        found[domain] = ((1 - shrinkage) * covariance
                         + shrinkage * np.trace(covariance) / size * np.eye(size))
    if "source" not in found:
        raise BaselineError("no source-domain training blocks for the Mahalanobis covariance")
    found.setdefault("target", found["source"])
    return found


def precisions(covariance_of, machine, n_blocks):
    """{domain: inverse covariance}; a singular covariance is a one-line error."""
    found = {}
    for domain, covariance in covariance_of.items():
        rank = np.linalg.matrix_rank(covariance)
        if rank < len(covariance):
            raise BaselineError(
                f"{machine}: the {domain} covariance of the residual blocks is singular (rank "
                f"{rank} of {len(covariance)}, from {n_blocks[domain]} blocks); set "
                f"mahalanobis.shrinkage in the configuration (e.g. 0.1), or use more or longer "
                f"training clips")
        found[domain] = np.linalg.inv(covariance)
    return found


def scores(mean_residuals, precision_of):
    """Each clip's score: the smaller over the domains of m^T P m, m its mean residual block."""
    per_domain = [np.einsum("ci,ij,cj->c", mean_residuals, precision_of[d], mean_residuals)
                  for d in DOMAINS]
    return np.minimum(*per_domain)


def block_counts(stacks, clip_domains):
    """Residual blocks of each domain's clips: n_frames per vector."""
    owner_domains = np.asarray(clip_domains)[stacks.owners]
    return {d: int(np.sum(owner_domains == d)) * stacks.n_frames for d in DOMAINS}


def check_blocks(machine, stacks, clip_domains, shrinkage):
    """Before training: a covariance of n_mels values needs more than n_mels blocks, unless
    shrunk."""
    n_mels, counts = stacks.frames.shape[1], block_counts(stacks, clip_domains)
    too_few = [d for d, n in counts.items() if 0 < n <= n_mels or (d == "source" and n == 0)]
    if too_few and shrinkage == 0:
        raise BaselineError(
            f"{machine}: {counts[too_few[0]]} residual blocks of {too_few[0]} training clips "
            f"make a singular {n_mels} x {n_mels} covariance (score: mahalanobis); set "
            f"mahalanobis.shrinkage in the configuration (e.g. 0.1), or use more or longer "
            f"training clips")


def fit(machine, model, stacks, clip_domains, shrinkage):
    """The training clips' scores, and the arrays saved with the model: each domain's
    covariance and its inverse, and the shrinkage."""
    means, scatter = clip_mean_residuals(model, stacks, clip_domains)
    covariance = covariances(scatter, shrinkage)
    precision = precisions(covariance, machine, block_counts(stacks, clip_domains))
    return scores(means, precision), {
        **{f"{d}_covariance": c for d, c in covariance.items()},
        **{f"{d}_precision": p for d, p in precision.items()}, "shrinkage": shrinkage}
