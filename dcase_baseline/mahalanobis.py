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

# A covariance is singular where its smallest eigenvalue is below this fraction of its largest.
# The residual blocks are differences of float32 log-mel values, which near 100 dB carry a
# rounding of about 1e-5 dB: a direction whose spread is below 1e-5 of the largest one (a
# variance ratio of 1e-10) holds rounding, not sound. The rounding of the float64 covariance
# itself (about 1e-14 of its largest eigenvalue) lies far below, so the answer does not hang on
# the last bits that another CPU computes differently.
SINGULAR_RATIO = 1e-10


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


def _merge(scatter, blocks):
    """Add blocks to scatter [centred sum of outer products, mean, count] (Chan et al.'s
    pairwise update): every product is of blocks centred on their own batch's mean, so a mean
    far from zero leaves no rounding noise in the covariance, as the one-pass sum of b b^T
    minus n m m^T does."""
    if not len(blocks):
        return
    n_old, n_new = scatter[2], len(blocks)
    mean = blocks.mean(axis=0)
    centred = blocks - mean
    delta = mean - scatter[1]
    n = n_old + n_new
    scatter[0] += centred.T @ centred + np.outer(delta, delta) * (n_old * n_new / n)
    scatter[1] += delta * (n_new / n)
    scatter[2] = n


def clip_mean_residuals(model, stacks, clip_domains=None):
    """Each clip's mean residual block (n_clips, n_mels); with clip_domains (a domain per clip),
    also {domain: [sum of (b - m)(b - m)^T, m, number of blocks]} over that domain's blocks b,
    m their mean, in the same pass."""
    n_mels = stacks.frames.shape[1]
    sums = np.zeros((stacks.n_clips, n_mels))
    scatter = {d: [np.zeros((n_mels, n_mels)), np.zeros(n_mels), 0] for d in DOMAINS}
    for owners, blocks in _residual_blocks(model, stacks):
        _add_per_clip(sums, owners, blocks)
        if clip_domains is None:
            continue
        for domain, found in scatter.items():
            _merge(found, blocks[np.asarray(clip_domains)[owners] == domain])
    counts = np.bincount(stacks.owners, minlength=stacks.n_clips) * stacks.n_frames
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means, (scatter if clip_domains is not None else None)


def covariances(scatter, shrinkage=0.0):
    """{domain: covariance} from clip_mean_residuals' scatter: centred on the domain's mean
    block, divided by the number of blocks - 1, shrunk to (1-s) C + s tr(C)/n I; the target
    takes the source's when it has no blocks."""
    found = {}
    for domain, (centred, _, n) in scatter.items():
        if n < 2:
            continue
        covariance = centred / (n - 1)
        covariance = (covariance + covariance.T) / 2      # symmetric to the last bit
        size = len(covariance)
        found[domain] = ((1 - shrinkage) * covariance
                         + shrinkage * np.trace(covariance) / size * np.eye(size))
    if "source" not in found:
        raise BaselineError("no source-domain training blocks for the Mahalanobis covariance")
    found.setdefault("target", found["source"])
    return found


def rank(matrix):
    """The rank of a symmetric matrix as SINGULAR_RATIO decides it: its eigenvalues above that
    fraction of the largest one (none where the largest is not above zero)."""
    eigenvalues = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    if not eigenvalues[-1] > 0:
        return 0
    return int(np.sum(eigenvalues > SINGULAR_RATIO * eigenvalues[-1]))


SINGULAR_WORDS = f"an eigenvalue below {SINGULAR_RATIO:g} of the largest counts as zero"


def precisions(covariance_of, machine, n_blocks):
    """{domain: inverse covariance}; a singular covariance is a one-line error."""
    found = {}
    for domain, covariance in covariance_of.items():
        found_rank = rank(covariance)
        if found_rank < len(covariance):
            raise BaselineError(
                f"{machine}: the {domain} covariance of the residual blocks is singular (rank "
                f"{found_rank} of {len(covariance)}, from {n_blocks[domain]} blocks; "
                f"{SINGULAR_WORDS}); set mahalanobis.shrinkage in the configuration (e.g. "
                f"0.1), or use more or longer training clips")
        found[domain] = np.linalg.inv(covariance)
    return found


def scores(mean_residuals, precision_of):
    """Each clip's score: the smaller over the domains of m^T P m, m its mean residual block. A
    squared distance below zero (a P that is not positive definite) is an error, not a
    score."""
    per_domain = [np.einsum("ci,ij,cj->c", mean_residuals, precision_of[d], mean_residuals)
                  for d in DOMAINS]
    found = np.minimum(*per_domain)
    if np.any(found < 0):
        raise BaselineError(
            f"{np.sum(found < 0)} of {len(found)} squared Mahalanobis distances are below zero "
            f"(down to {found.min():.4g}): an inverse covariance is not positive definite; "
            f"retrain the model with --force and mahalanobis.shrinkage set (e.g. 0.1)")
    return found


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
