# %% [markdown]
# # 07 · Mini-batch training, optimizers and overfitting
#
# Backpropagation gives the gradient of the cost; training is what we do with it. Networks are
# trained by **mini-batch gradient descent**: each step looks at a small random batch of
# samples, computes the batch-averaged gradient with backprop, and moves the parameters a
# little. This notebook builds that loop piece by piece, compares the update rules that are
# used in practice, lets you train networks live in a dashboard, trains a digit recogniser,
# meets the classic failure of flexible models, overfitting, and ends with what a trained
# hidden layer is worth to a new task with few labels.
#
# Prepares for problem set 4 (ps4, mini-batch training) with notebook 06, problem set 5 (ps5, a
# network of any depth) with notebooks 05, 06 and 08, and problem set 7 (ps7, debugging backprop:
# its sanity checks of a training run) with notebooks 04, 05 and 06. The exercises in the text
# check your answer when you run their cell; after trying, `solution("name")` prints a worked
# answer.
#
# **What you will be able to do**
#
# - cut a training set into mini-batches that visit every sample once per epoch, and explain
#   why a small batch is a cheap, noisy but unbiased estimate of the full gradient;
# - derive the batch gradients $\frac{\partial C}{\partial W^{[l]}} = \frac1m
#   \frac{\partial C}{\partial Z^{[l]}} A^{[l-1]T}$ and $\frac{\partial C}{\partial
#   \mathbf{b}^{[l]}} = \frac1m \frac{\partial C}{\partial Z^{[l]}} \mathbf{1}$, and check
#   that they are the mean of the per-sample gradients;
# - write down SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam, predict how each moves on
#   a narrow valley, and pick a learning-rate schedule;
# - train networks interactively in a dashboard and read its decision regions and loss
#   curves;
# - recognise overfitting from training and validation curves, fight it with an L2 penalty
#   or early stopping, and say when the penalty is a multiplicative weight decay (plain SGD)
#   and when it is not (Adam);
# - read a network as a feature map followed by a linear classifier, reuse the frozen hidden
#   layer of an earlier model or an autoencoder trained without labels as the pre-processing,
#   and measure what each is worth when labels are few.

# %%
%matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from numpy.polynomial import Polynomial

from course.activations import tanh_prime
from course.data import (
    BatchGenerator,
    load_digits,
    minibatches,
    moons,
    noisy_regression,
    one_hot,
    regression_truth,
    spirals,
    train_test_split,
)
from course.exercises import check, solution
from course.mlp import MLP
from course.optim import (
    constant,
    cosine,
    exponential,
    inverse_time,
    make_optimizer,
    step_decay,
)
from course.playground import Playground, dashboard
from course.train import train

plt.rcParams.update({"figure.dpi": 90, "font.size": 11})

# %% [markdown]
# ## 1. The batch generator
#
# One **epoch** is one pass over the training set. A batch generator (the slides call it a
# "chunker") draws a fresh random permutation of the sample indices $0, \dots, m-1$ at the
# start of every epoch and cuts it into consecutive chunks of `batch_size`. When `batch_size`
# does not divide $m$, the last chunk is smaller. The slides' example has $m = 32$ samples
# and batches of 12: that gives $\lceil 32/12 \rceil = 3$ batches of sizes 12, 12 and 8.
# `course.data.BatchGenerator` is that chunker: iterating over it once yields the index
# arrays of one epoch.

# %%
chunker = BatchGenerator(m=32, batch_size=12, seed=0)
print("batches per epoch:", len(chunker))
epoch_batches = list(chunker)
for idx in epoch_batches:
    print(f"{len(idx):2d} samples:", idx)
print("sizes:", [len(idx) for idx in epoch_batches])

# %% [markdown]
# The slides check the chunker by concatenating the batches of one epoch, sorting them and
# comparing with $1, \dots, m$ (R counts from 1, Python from 0). Every sample must appear
# exactly once per epoch, and the next epoch must use a new order:

# %%
seen = np.concatenate(epoch_batches)
print("every sample exactly once:", np.array_equal(np.sort(seen), np.arange(32)))
next_epoch = list(chunker)
print("second epoch, first batch:", next_epoch[0])
print("second epoch covers all too:", np.array_equal(np.sort(np.concatenate(next_epoch)),
                                                     np.arange(32)))
assert np.array_equal(np.sort(seen), np.arange(32))

# %% [markdown]
# The random draws differ from the slides' (another random number generator), so the
# indices inside the batches differ; the sizes 12, 12, 8 and the coverage check are the same.
# One small design difference: the slides' chunker also shuffles the *order of the chunk
# sizes*, so its short batch can come first; here it always comes last, which changes nothing
# in expectation.
#
# With data, `course.data.minibatches(X, Y, batch_size)` uses the same generator and hands
# out the columns themselves: `X` has shape $(n_0, m)$, one sample per column, so a batch
# is `X[:, idx]` of shape $(n_0, b)$.

# %%
X32, y32 = moons(32, seed=0)
for Xb, yb in minibatches(X32, y32, batch_size=12, seed=0):
    print("X batch", Xb.shape, " labels", yb.shape)

# %% [markdown]
# **Exercise `batches_per_epoch`.** How many mini-batches does one epoch of $m = 1000$ samples take
# with batches of 64? Replace `None` with your answer and run the cell: it says whether the answer
# is right, and if not, what the likely bug is.

# %%
m, batch_size = 1000, 64
answer = None  # your code here: number of mini-batches in one epoch
check("batches_per_epoch", answer)

# %% [markdown]
# ## 2. Full batch, one sample, or a mini-batch?
#
# The cost is a mean over the training set, $C = \frac1m \sum_{i=1}^m C^{(i)}$, so its
# gradient is a mean too: $\nabla C = \frac1m \sum_i \nabla C^{(i)}$, the *expectation* of
# the per-sample gradient when a sample is drawn uniformly from the training set. Three ways
# to use it:
#
# - **batch (full) gradient descent** computes the exact mean over all $m$ samples for every
#   step: one step per epoch, each step expensive;
# - **stochastic gradient descent** (in the strict sense) uses one sample per step: $m$ cheap
#   but very noisy steps per epoch;
# - **mini-batch gradient descent** averages over $b$ samples (typically 16 to 256): the
#   mean of a random batch is an unbiased estimate of the full gradient, and it is computed
#   with matrix products, which a CPU or GPU does far faster per sample than $b$ separate
#   vector products.
#
# How noisy is the estimate? The mean of $b$ independent draws has standard deviation
# $\sigma/\sqrt{b}$, where $\sigma^2 = \frac1m \sum_i \lVert \nabla C^{(i)} - \nabla C
# \rVert^2$ is the spread of the per-sample gradients. Drawing the batch *without*
# replacement from a finite set shrinks it slightly further, by the factor
# $\sqrt{(m-b)/(m-1)}$. So 100 times more samples per step buy only 10 times less noise: a
# very large batch costs a lot and improves the direction little, which is why an exact
# gradient converges slowly per unit of work. Let us measure it on 2000 moons points, with
# the gradient norms of a fresh 2-8-8-2 network:

# %%
X_big, y_big = moons(2000, noise=0.15, seed=1)
m_big = X_big.shape[1]
net = MLP([2, 8, 8, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)


def flat(grads):
    """All gradient entries of a network in one vector."""
    return np.concatenate([g.ravel() for g in grads.values()])


g_full = flat(net.gradients(X_big, y_big))
per_sample = np.array([flat(net.gradients(X_big[:, [i]], y_big[[i]])) for i in range(m_big)])
sigma2 = np.mean(np.sum((per_sample - g_full) ** 2, axis=1))
print(f"|full gradient| = {np.linalg.norm(g_full):.6f},  sigma = {np.sqrt(sigma2):.6f}")
print("mean of the 2000 per-sample gradients == full gradient:",
      np.allclose(per_sample.mean(axis=0), g_full, rtol=0, atol=1e-12))

# %%
rng = np.random.default_rng(0)
batch_sizes = [1, 4, 16, 64, 256, 1024]
measured, predicted = [], []
print("   b   measured |g_b - g|/|g|   predicted")
for b in batch_sizes:
    errors = []
    for _ in range(300):
        idx = rng.choice(m_big, size=b, replace=False)
        errors.append(np.sum((per_sample[idx].mean(axis=0) - g_full) ** 2))
    measured.append(np.sqrt(np.mean(errors)) / np.linalg.norm(g_full))
    predicted.append(np.sqrt(sigma2 / b * (m_big - b) / (m_big - 1)) / np.linalg.norm(g_full))
    print(f"{b:4d}   {measured[-1]:22.3f}   {predicted[-1]:9.3f}")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.loglog(batch_sizes, measured, "o-", label="measured (300 random batches each)")
ax.loglog(batch_sizes, predicted, "k--", label=r"$\sigma\sqrt{(m-b)/((m-1)\,b)}\,/\,|g|$")
ax.set_xlabel("batch size b")
ax.set_ylabel("relative error of the batch gradient")
ax.set_title("A batch gradient is a noisy estimate: error ~ 1/sqrt(b)")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown]
# The curve falls by a factor 2 for every factor 4 in batch size, the $1/\sqrt b$ law, and
# drops faster only when $b$ becomes a sizeable part of $m$ (at $b = m$ the error is zero).
#
# Now train the same network three ways with plain SGD and the same learning rate 0.1 on 200
# moons points: full batch ($b = 200$, one step per epoch), mini-batches of 16 (13 steps per
# epoch) and single samples (200 steps per epoch). All three see every sample once per epoch.

# %%
X, y = moons(200, noise=0.15, seed=0)
runs, seconds = {}, {}
for b, name in [(200, "full batch (b = 200)"), (16, "mini-batch (b = 16)"), (1, "stochastic (b = 1)")]:
    net = MLP([2, 8, 8, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
    start = time.perf_counter()
    runs[name] = train(net, X, y, epochs=40, batch_size=b, optimizer="sgd", lr=0.1, seed=0)
    seconds[name] = (time.perf_counter() - start) / 40
    print(f"{name:22s} {runs[name].summary()}")

# %% [markdown]
# Per epoch, the single-sample version gets furthest: it takes 200 steps where full batch
# takes one. But an epoch is not the same amount of *time* for all three: vectorised matrix
# products make a batch of 16 cost far less than 16 single samples (the timing below changes
# from run to run and machine to machine):

# %%
# NBVAL_IGNORE_OUTPUT
for name, s in seconds.items():
    print(f"{name:22s} {1000 * s:6.2f} ms per epoch")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for name, history in runs.items():
    ax.plot(range(1, 41), history.train_loss, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training cost C")
ax.set_title("SGD with lr = 0.1: more steps per epoch, faster per epoch")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

# %% [markdown]
# Mini-batches are the compromise used everywhere: many steps per epoch, each one cheap and
# vectorised, with noise that is small enough to make progress (and, some argue, helps to
# leave poor regions of the cost surface).
#
# **Check yourself.** A training set has $m = 1000$ samples and you use batches of 64. How
# many steps make one epoch, and how large is the last batch?
#
# <details><summary>Answer</summary>
#
# $\lceil 1000 / 64 \rceil = 16$ steps: 15 full batches hold $15 \cdot 64 = 960$ samples,
# so the last batch has $1000 - 960 = 40$ samples. `len(BatchGenerator(1000, 64))` is 16.
#
# </details>

# %% [markdown]
# ## 3. Batch-averaged gradients
#
# Backprop was derived for one sample $\mathbf{x}^{(i)}$. For a batch, put the samples side
# by side as the columns of $X = [\mathbf{x}^{(1)}, \dots, \mathbf{x}^{(m)}]$ of shape
# $(n_0, m)$. Because $WX = [W\mathbf{x}^{(1)}, \dots, W\mathbf{x}^{(m)}]$, the forward pass
# is unchanged with capital letters: $Z^{[l]} = W^{[l]} A^{[l-1]} + \mathbf{b}^{[l]}$ (the
# bias column is broadcast to every column) and $A^{[l]} = f(Z^{[l]})$, each of shape
# $(n_l, m)$.
#
# For the backward pass, let $\frac{\partial C}{\partial Z^{[l]}}$ denote the $(n_l, m)$
# matrix whose column $i$ is the *per-sample* error $\frac{\partial C^{(i)}}{\partial
# \mathbf{z}^{[l](i)}}$, as the lectures do (the code calls it `dZ`, like notebook 05).
# These columns are **not averaged**: each sample's error travels back on its own,
#
# $$\frac{\partial C}{\partial Z^{[l-1]}} = f'(Z^{[l-1]}) \odot \Big[ W^{[l]T}
# \frac{\partial C}{\partial Z^{[l]}} \Big],$$
#
# and for a softmax output with cross-entropy the first one is $\frac{\partial C}{\partial
# Z^{[L]}} = \hat Y - T$. The averaging happens in the parameter gradients. Since
# $C = \frac1m \sum_{i=1}^m C^{(i)}$, every partial derivative is the mean of the per-sample
# ones, $\partial C = \frac1m \sum_i \partial C^{(i)}$:
#
# $$\frac{\partial C}{\partial W^{[l]}} = \frac1m \sum_{i=1}^m
# \frac{\partial C^{(i)}}{\partial \mathbf{z}^{[l](i)}} \big(\mathbf{a}^{[l-1](i)}\big)^T
# = \frac1m \frac{\partial C}{\partial Z^{[l]}} \big(A^{[l-1]}\big)^T,
# \qquad
# \frac{\partial C}{\partial \mathbf{b}^{[l]}} = \frac1m \frac{\partial C}{\partial Z^{[l]}}
# \begin{bmatrix} 1 \\ \vdots \\ 1 \end{bmatrix}.$$
#
# Strictly, the derivative of the mean cost with respect to $Z^{[l]}$ is this matrix divided
# by $m$; that is what notebook 06 calls `delta[l]` and problem sets 3 and 4 call `dZ`, and
# with it the $\frac1m$ above disappears: $\partial C/\partial W^{[l]}$ = `delta[l]`
# $A^{[l-1]T}$. Same gradients, the $\frac1m$ in a different place.
#
# The matrix product is the sum of outer products: entry $(j, k)$ of $D A^T$ is $\sum_i
# D_{ji} A_{ki}$, a sum over the columns, that is over the samples. Multiplying by the
# vector of $m$ ones sums each row, which adds up the bias gradients of the samples. Let us
# build these by hand for a 2-3-2 network and a batch of $m = 5$ samples, and compare with
# `course.mlp`.

# %%
Xb, yb = X[:, :5], y[:5]  # five moons samples, one per column
m = Xb.shape[1]
net = MLP([2, 3, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=1)
W1, W2 = net.params["W1"], net.params["W2"]

Yhat = net.forward(Xb)  # fills net.cache: A0 = X, Z1, A1, Z2, A2 = Yhat
cache = net.cache
T = one_hot(yb, num_classes=2)  # (2, 5)
dZ2 = Yhat - T  # (2, 5): per-sample errors dC^(i)/dz2^(i), NOT averaged
dZ1 = tanh_prime(cache["Z1"], cache["A1"]) * (W2.T @ dZ2)  # (3, 5)
ones = np.ones((m, 1))
by_hand = {
    "W1": dZ1 @ cache["A0"].T / m,
    "b1": dZ1 @ ones / m,
    "W2": dZ2 @ cache["A1"].T / m,
    "b2": dZ2 @ ones / m,
}
package = net.gradients(Xb, yb)
for key in by_hand:
    print(f"{key}: shape {by_hand[key].shape}, by hand == course.mlp:",
          np.allclose(by_hand[key], package[key], rtol=1e-12, atol=1e-15))
    assert np.allclose(by_hand[key], package[key], rtol=1e-12, atol=1e-15)
print("dC/dW2 =\n", np.round(package["W2"], 6))

# %% [markdown]
# The same number three ways: the matrix product, the explicit sum of outer products over
# the samples, and the mean of the gradients that `course.mlp` computes for each sample on
# its own (a batch of one column each):

# %%
outer_sum = sum(np.outer(dZ2[:, i], cache["A1"][:, i]) for i in range(m)) / m
per_sample_grads = [net.gradients(Xb[:, [i]], yb[[i]]) for i in range(m)]
mean_of_samples = {k: np.mean([g[k] for g in per_sample_grads], axis=0) for k in package}
print("sum of outer products == (1/m) dC/dZ2 A1^T:",
      np.allclose(outer_sum, by_hand["W2"], rtol=1e-12, atol=1e-15))
for key in package:
    same = np.allclose(mean_of_samples[key], package[key], rtol=1e-12, atol=1e-15)
    print(f"batch gradient {key} == mean of the 5 per-sample gradients: {same}")
    assert same

# %% [markdown]
# **Forgetting the $\frac1m$.** If the code sums instead of averaging, every gradient is
# $m$ times too large, so each step is as if the learning rate had been multiplied by $m$,
# and the "right" learning rate would depend on the batch size:

# %%
summed = {"W1": dZ1 @ cache["A0"].T, "b1": dZ1 @ ones, "W2": dZ2 @ cache["A1"].T,
          "b2": dZ2 @ ones}
for key in summed:
    ratio = summed[key] / package[key]
    print(f"{key}: summed / averaged = {ratio.min():.6f} ... {ratio.max():.6f}")

# %% [markdown]
# Every ratio is exactly $m = 5$. With batches of 256 the same mistake would make a well-tuned
# learning rate 256 times too large, and training would diverge.
#
# **Check yourself.** Why does the bias gradient need the vector of ones, while the weight
# gradient does not?
#
# <details><summary>Answer</summary>
#
# For one sample $\partial C^{(i)} / \partial \mathbf{b}^{[l]} = \partial C^{(i)} /
# \partial \mathbf{z}^{[l]}$, a column. For the batch we need the mean of the $m$ columns of
# $\frac{\partial C}{\partial Z^{[l]}}$, which is that matrix times $\frac1m\mathbf{1}$. In
# the weight gradient the product with $A^{[l-1]T}$ already sums over the samples (the
# inner dimension of $(n_l, m) \times (m, n_{l-1})$ is the batch), so only the $\frac1m$ is
# left to add.
#
# </details>

# %% [markdown]
# ## 4. Update rules: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam
#
# All rules below take the gradient $g = \partial C / \partial \theta$ of the current
# mini-batch and update each parameter array $\theta$ (every $W^{[l]}$ and
# $\mathbf{b}^{[l]}$) element by element. $\eta$ is the learning rate, $t = 1, 2, \dots$
# counts the steps, and every state variable ($v$, $r$, $\mathbf{m}$) starts at zero.
#
# | rule | update |
# | --- | --- |
# | SGD | $\theta \leftarrow \theta - \eta\, g$ |
# | momentum | $v \leftarrow \beta v - \eta\, g, \quad \theta \leftarrow \theta + v$ |
# | Nesterov | $v_{\text{prev}} = v, \quad v \leftarrow \beta v - \eta\, g, \quad \theta \leftarrow \theta - \beta v_{\text{prev}} + (1 + \beta) v$ |
# | AdaGrad | $r \leftarrow r + g \odot g, \quad \theta \leftarrow \theta - \eta\, g / (\sqrt{r} + \epsilon)$ |
# | RMSProp | $r \leftarrow \rho r + (1 - \rho)\, g \odot g, \quad \theta \leftarrow \theta - \eta\, g / (\sqrt{r} + \epsilon)$ |
# | Adam | $\mathbf{m} \leftarrow \beta_1 \mathbf{m} + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2)\, g \odot g,$ |
# | | $\hat{\mathbf{m}} = \mathbf{m} / (1 - \beta_1^t), \quad \hat v = v / (1 - \beta_2^t), \quad \theta \leftarrow \theta - \eta\, \hat{\mathbf{m}} / (\sqrt{\hat v} + \epsilon)$ |
#
# - **Momentum** keeps a velocity $v$, an exponentially decaying sum of past steps
#   ($\beta = 0.9$ keeps 90% per step). Along a direction where the gradient keeps its sign
#   the steps add up, up to $1/(1-\beta) = 10$ times the plain step; across a narrow valley
#   the alternating gradients cancel. The price is inertia: it overshoots.
# - **Nesterov** evaluates the gradient at the look-ahead point $\theta + \beta v$, where
#   momentum is about to carry the parameters: $v \leftarrow \beta v - \eta \nabla
#   C(\theta + \beta v)$, $\theta \leftarrow \theta + v$. The table writes the same rule in
#   the shifted variable $\theta + \beta v$, so it needs only the gradient at the stored
#   parameters. The look-ahead corrects the velocity earlier and damps the overshoot.
# - **AdaGrad** divides each coordinate by the root of its accumulated squared gradients:
#   coordinates with large gradients get small steps and vice versa. Because $r$ only grows,
#   the steps shrink for ever.
# - **RMSProp** replaces the sum by a moving average (decay $\rho = 0.9$), so the step size
#   adapts without dying out. The average starts at zero and is not corrected, so the first
#   step is $\eta\,|g| / \sqrt{(1-\rho)\,g^2} = \eta / \sqrt{1 - \rho} \approx 3.2\,\eta$ in
#   every coordinate.
# - **Adam** combines the two ideas: a moving average of the gradient (momentum) divided by
#   the root of a moving average of its square (RMSProp). The factors $1/(1-\beta^t)$
#   correct the bias of averages that start at zero, so the very first step has size about
#   $\eta$ in every coordinate.
#
# All six live in `course.optim` with one interface, `opt.step(params, grads)`, which updates
# the arrays of `params` in place. First, a picture: the cost $J(\theta) = \frac12(\theta_1^2
# + 25\,\theta_2^2)$ is a valley 5 times narrower across ($\theta_2$) than along
# ($\theta_1$), the typical shape that makes plain gradient descent slow. Each rule takes 60
# steps from $(-4, 1.5)$ with its own learning rate:

# %%
curvature = np.array([1.0, 25.0])


def bowl(theta):
    return 0.5 * np.sum(curvature * theta**2)


settings = {
    "sgd": {"lr": 0.035},
    "momentum": {"lr": 0.035, "beta": 0.9},
    "nesterov": {"lr": 0.035, "beta": 0.9},
    "adagrad": {"lr": 1.0},
    "rmsprop": {"lr": 0.1},
    "adam": {"lr": 0.3},
}
paths = {}
for name, kwargs in settings.items():
    opt = make_optimizer(name, **kwargs)
    params = {"theta": np.array([-4.0, 1.5])}
    path = [params["theta"].copy()]
    for _ in range(60):
        opt.step(params, {"theta": curvature * params["theta"]})  # the gradient of the bowl
        path.append(params["theta"].copy())
    paths[name] = np.array(path)
    print(f"{name:9s} {str(kwargs):28s} J after 60 steps = {bowl(path[-1]):.2e}")
for name in ("adagrad", "rmsprop", "adam"):
    first = np.abs(paths[name][1] - paths[name][0]) / settings[name]["lr"]
    print(f"{name:9s} first step moves the coordinates by {first[0]:.4f} and {first[1]:.4f} x lr")

# %%
g1, g2 = np.meshgrid(np.linspace(-4.6, 1.6, 200), np.linspace(-1.8, 1.8, 150))
J_grid = 0.5 * (curvature[0] * g1**2 + curvature[1] * g2**2)
fig, axes = plt.subplots(2, 3, figsize=(9, 5.4), sharex=True, sharey=True)
for ax, (name, path) in zip(axes.flat, paths.items()):
    ax.contour(g1, g2, J_grid, levels=np.geomspace(0.02, 60, 10), colors="0.6", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1.2, color="C3", label="60 steps")
    ax.plot(0, 0, "k*", ms=11, label="minimum")
    ax.set_title(f"{name} (lr {settings[name]['lr']})")
    ax.set_aspect("equal")
for ax in axes[1]:
    ax.set_xlabel(r"$\theta_1$")
for ax in axes[:, 0]:
    ax.set_ylabel(r"$\theta_2$")
axes[0, 0].legend(loc="lower right", fontsize=10)
fig.suptitle(r"Six update rules on the valley $J = (\theta_1^2 + 25\,\theta_2^2)/2$")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the pictures show:
#
# - **SGD** is limited by the steep direction (a step larger than $2/25 = 0.08$ would
#   diverge across the valley), so it crawls along the flat one and is still far from the
#   minimum after 60 steps.
# - **Momentum**, with the same learning rate, builds up speed and swings far past the
#   minimum, back and forth across the valley: the overshoot of a heavy ball.
# - **Nesterov** uses the same $\eta$ and $\beta$, but its look-ahead gradient brakes
#   earlier: the swing is much smaller and it ends far closer.
# - **AdaGrad** and **RMSProp** rescale each coordinate: the first steps point diagonally
#   (whatever their gradients, both coordinates move by $\eta$ under AdaGrad and by
#   $\eta/\sqrt{1-\rho} = 3.16\,\eta$ under RMSProp, as printed above), then the path bends
#   into the valley.
# - **Adam** also starts diagonally, and its momentum carries it past the minimum along
#   $\theta_1$ before it turns back.
#
# On a real network, all six now train the *same* 2-16-16-3 network from the *same*
# initial weights on the *same* sequence of mini-batches (300 spiral points, batches of 16),
# each with a learning rate typical for it (the rules scale the gradient differently, so one
# common learning rate would favour some of them):

# %%
X_sp, y_sp = spirals(300, seed=0)
rates = {"sgd": 0.3, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.1, "rmsprop": 0.003,
         "adam": 0.01}
histories = {}
for name, lr in rates.items():
    net = MLP([2, 16, 16, 3], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
    histories[name] = train(net, X_sp, y_sp, epochs=100, batch_size=16, optimizer=name,
                            lr=lr, seed=0)
    print(f"{name:9s} lr {lr:<6g} {histories[name].summary()}")

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for name, history in histories.items():
    ax.semilogy(range(1, 101), history.train_loss, label=f"{name} (lr {rates[name]:g})")
ax.set_xlabel("epoch")
ax.set_ylabel("training cost (log scale)")
ax.set_title("Same network, initialisation and batches: six update rules on spirals")
ax.legend(ncol=2, fontsize=10)
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown]
# **Check yourself.** AdaGrad and RMSProp differ in one line. After 10 000 steps with a
# gradient that keeps the same size $|g|$ in some coordinate, how large are their steps in
# that coordinate (ignore $\epsilon$)?
#
# <details><summary>Answer</summary>
#
# AdaGrad: $r = 10\,000\, g^2$, so the step is $\eta |g| / \sqrt{10\,000\, g^2} = \eta /
# 100$, and it keeps shrinking like $\eta/\sqrt t$. RMSProp: $r$ is a moving average that
# settles at $g^2$, so the step stays $\eta |g| / |g| = \eta$. AdaGrad suits problems where
# a decaying step is wanted; for long training runs, RMSProp and Adam keep learning.
#
# </details>

# %% [markdown]
# **Exercise `momentum_step`.** One momentum step: from the velocity $v$ of earlier steps and the
# gradient $dW$, compute the new $W$.

# %%
W = np.array([[0.5, -1.0], [2.0, 0.0]])
v = np.array([[0.1, 0.0], [-0.2, 0.3]])  # the velocity after earlier steps
dW = np.array([[1.0, -2.0], [0.5, 4.0]])
lr, beta = 0.1, 0.9  # v = beta * v - lr * dW, then W = W + v
answer = None  # your code here: W after one momentum step
check("momentum_step", answer)

# %% [markdown]
# **Exercise `adam_step`.** Adam's very first step ($t = 1$, both moments start at zero): compute
# the new $W$.

# %%
W = np.array([0.5, -1.0, 2.0])
dW = np.array([0.2, -3.0, 0.01])
lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8  # Adam's first step: t = 1, m = v = 0
answer = None  # your code here: W after Adam's first step
check("adam_step", answer)

# %% [markdown]
# ## 5. Learning-rate schedules
#
# A constant learning rate that is large enough to make quick progress early is usually too
# large to settle in a minimum: the noise of the mini-batches keeps the parameters
# jittering. A **schedule** lowers $\eta$ as training goes on; `course.optim` has the usual
# ones, each a function of the epoch $e = 0, 1, 2, \dots$:
#
# | schedule | $\eta(e)$ |
# | --- | --- |
# | constant | $\eta_0$ |
# | step decay | $\eta_0 \cdot \text{drop}^{\lfloor e / \text{every} \rfloor}$ |
# | exponential | $\eta_0\, e^{-k e}$ |
# | inverse time | $\eta_0 / (1 + k e)$ |
# | cosine | $\eta_{\min} + (\eta_0 - \eta_{\min}) \big(1 + \cos(\pi e / E)\big) / 2$ for $e \le E$ |
#
# `train(..., schedule=s)` sets `opt.lr = s(epoch)` at the start of every epoch.

# %%
epochs = 80
lr0 = 0.1
schedules = {
    "constant": constant(lr0),
    "step decay (x0.5 every 20)": step_decay(lr0, drop=0.5, every=20),
    "exponential (k = 0.04)": exponential(lr0, k=0.04),
    "inverse time (k = 0.1)": inverse_time(lr0, k=0.1),
    "cosine (E = 80)": cosine(lr0, total_epochs=epochs),
}
for name, s in schedules.items():
    print(f"{name:28s} lr at epochs 0, 20, 40, 79: "
          + ", ".join(f"{s(e):.4f}" for e in (0, 20, 40, 79)))

# %%
runs = {}
for name, s in schedules.items():
    net = MLP([2, 16, 16, 3], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
    runs[name] = train(net, X_sp, y_sp, epochs=epochs, batch_size=16, optimizer="momentum",
                       lr=lr0, schedule=s, seed=0)
    last = runs[name].train_loss[-10:]
    print(f"{name:28s} final cost {last[-1]:.4f}, spread over the last 10 epochs "
          f"{np.std(last):.4f}, accuracy {runs[name].train_acc[-1]:.3f}")

# %%
fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(9, 4.0))
for name, history in runs.items():
    ax_lr.plot(range(epochs), history.lr, label=name)
    ax_loss.semilogy(range(1, epochs + 1), history.train_loss, label=name)
ax_lr.set_xlabel("epoch")
ax_lr.set_ylabel("learning rate")
ax_lr.set_title("Learning-rate schedules ($\\eta_0 = 0.1$)")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training cost (log scale)")
ax_loss.set_title("Momentum SGD on spirals with each schedule")
for ax in (ax_lr, ax_loss):
    ax.grid(True, which="both", alpha=0.3)
# one legend for both panels, under them, where it hides no curve
fig.legend(*ax_lr.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=10,
           frameon=False)
fig.tight_layout(rect=(0, 0.13, 1, 1))
plt.show()

# %% [markdown]
# With the constant rate the cost keeps jumping up and down to the end; every decaying
# schedule ends lower and much smoother (the spread of the last 10 costs above). Cosine and
# step decay keep the rate high for longer and then lower it a lot, which works well here.

# %% [markdown]
# ## 6. The training dashboard
#
# Everything so far fits in one picture, in the spirit of TensorFlow Playground: pick a 2-D
# dataset, a network, an update rule and its hyper-parameters, and watch the decision regions
# and the loss curves change while the network trains. The dashboard below drives a
# `course.playground.Playground`:
#
# - **data**, **hidden layers**, **units per layer**, **activation**: the dataset (a quarter
#   of its 200 points is held out for validation, drawn as triangles) and the network
#   $2 \to$ units $\times$ layers $\to K$ with a softmax output over the $K$ classes;
# - **learning rate**, **batch size**, **optimizer**, **L2** (tick the box to switch weight
#   decay on, then pick $\lambda$);
# - **Start** trains one epoch after another in the background while the kernel stays
#   responsive; **Pause** stops it; **Step** trains exactly one epoch; **Reset** starts again
#   from the same initial weights. Changing any setting pauses and builds a fresh network.
#
# Things to try: spirals with 1 hidden layer of 2 units, then 2 layers of 8; SGD with a
# learning rate of 1 against Adam with 0.03; batch size 1 against 150 (the whole training
# set); ReLU against tanh on circles; a large L2 that makes the regions too simple. (In a
# stored copy of this notebook you see a picture of the dashboard's first view; run the
# notebook to use it.)

# %%
dashboard()

# %% [markdown]
# The same experiment without widgets: the plain `Playground` object has `step(epochs)`,
# `figure()` and `summary()`, so a fixed run can be reproduced exactly. Here is a
# 2-16-16-3 tanh network trained with Adam for 150 epochs on the spirals:

# %%
pg = Playground(dataset="spirals", hidden_layers=2, units=16, activation="tanh", lr=0.03,
                batch_size=16, optimizer="adam", seed=0)
pg.step(150)
print(pg.summary())
best = int(np.argmin(pg.history.val_loss)) + 1
print(f"lowest validation cost {min(pg.history.val_loss):.3f} at epoch {best}")
pg.figure()

# %% [markdown]
# The training cost is still falling, but the validation cost was lowest at epoch 56 and
# has drifted up since: the network starts to fit the particular training points,
# a first sight of the overfitting of section 8.

# %% [markdown]
# ## 7. Handwritten digits
#
# A real (if small) task: the 1797 handwritten digits of 8 x 8 grey pixels that ship with
# scikit-learn. `load_digits` returns them as columns of 64 pixel values scaled to $[0, 1]$,
# the course's $(n_0, m)$ layout. Each digit has its own output unit, and the softmax
# outputs are the network's confidence in each of the 10 digits.

# %%
X_dig, y_dig = load_digits()
print("X", X_dig.shape, " y", y_dig.shape, " pixel range", X_dig.min(), "to", X_dig.max())
print("samples per digit:", np.bincount(y_dig))
fig, axes = plt.subplots(1, 10, figsize=(9, 1.5))
for digit, ax in enumerate(axes):
    column = np.flatnonzero(y_dig == digit)[0]
    ax.imshow(X_dig[:, column].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"label {digit}", fontsize=10)
    ax.axis("off")
fig.suptitle("The first example of each digit (8 x 8 pixels)", y=1.08)
plt.show()

# %% [markdown]
# Hold out a stratified 20% as a test set, then train a 64-32-10 network (ReLU hidden layer,
# softmax output, cross-entropy) with mini-batch Adam: batches of 32, learning rate 0.003,
# 30 epochs. The network has $64 \cdot 32 + 32 + 32 \cdot 10 + 10 = 2410$ parameters.

# %%
Xd_train, Xd_test, yd_train, yd_test = train_test_split(X_dig, y_dig, test_fraction=0.2,
                                                        seed=0, stratify=True)
print("training", Xd_train.shape, " test", Xd_test.shape)
digit_net = MLP([64, 32, 10], hidden="relu", output="softmax", loss="cross_entropy", seed=0)
print("parameters:", digit_net.num_parameters())

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
digit_history = train(digit_net, Xd_train, yd_train, epochs=30, batch_size=32,
                      optimizer="adam", lr=0.003, X_val=Xd_test, Y_val=yd_test, seed=0)
print(f"30 epochs in {time.perf_counter() - start:.2f} s")

# %%
test_acc = digit_net.accuracy(Xd_test, yd_test)
print(digit_history.summary())
print(f"test accuracy {test_acc:.4f} ({round(test_acc * Xd_test.shape[1])} of "
      f"{Xd_test.shape[1]} test digits)")
assert test_acc >= 0.95

# %% [markdown]
# The **confusion matrix** counts, for every true digit (row), how often each digit was
# predicted (column); a perfect classifier has numbers only on the diagonal.

# %%
pred = digit_net.predict(Xd_test)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (yd_test, pred), 1)
per_digit = confusion.diagonal() / confusion.sum(axis=1)
for digit in range(10):
    print(f"digit {digit}: {confusion[digit, digit]:2d} of {confusion[digit].sum():2d} "
          f"correct ({per_digit[digit]:.1%})")

fig, ax = plt.subplots(figsize=(5.6, 5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j]:
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=9,
                    color="white" if confusion[i, j] > 20 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("Confusion matrix on the 359 test digits")
plt.show()

# %%
wrong = np.flatnonzero(pred != yd_test)
print("misclassified test digits:", wrong.size)
probs = digit_net.forward(Xd_test)
fig, axes = plt.subplots(1, len(wrong), figsize=(1.5 * len(wrong), 2.0), squeeze=False)
for ax, j in zip(axes[0], wrong):
    ax.imshow(Xd_test[:, j].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"true {yd_test[j]}\nsaid {pred[j]} ({probs[pred[j], j]:.0%})", fontsize=10)
    ax.axis("off")
fig.suptitle("Every misclassified test digit, with the network's confidence", y=1.12)
plt.show()

# %% [markdown]
# Several of the mistakes are hard even for a person at this resolution; others are
# confident and plainly wrong, a reminder that a softmax output is a score, not a calibrated
# probability.

# %% [markdown]
# ## 8. Overfitting, weight decay and early stopping
#
# A model with many parameters can fit the noise of a small training set instead of the
# rule behind it. The slides' homework shows it with a polynomial: a least-squares fit of
# degree 15, which has 16 coefficients, to 20 noisy points that their R helper
# `data.lawrence.giles(12345)` draws (the slides do not say from which curve). We draw our own
# 20 points of the same kind: noisy samples of $\sin(2\pi x)$ on $[0, 1]$ (noise standard
# deviation 0.1), and fit the same degree.

# %%
X_reg, Y_reg = noisy_regression(m=20, noise=0.1, seed=12345)
x_reg, y_reg = X_reg[0], Y_reg[0]
poly15 = Polynomial.fit(x_reg, y_reg, deg=15)
residuals = y_reg - poly15(x_reg)
print("residuals of the degree-15 fit:")
print(np.array2string(residuals, formatter={"float_kind": lambda v: f"{v: .2e}"}))
print(f"largest |residual| {np.abs(residuals).max():.4f} (noise standard deviation 0.1), "
      f"at the ends {abs(residuals[0]):.1e} and {abs(residuals[-1]):.1e}")
# the residuals the slides print for their own draw of the data
slides = np.array([1.539552e-07, -3.378065e-06, 3.810329e-05, -3.104312e-04, 2.340646e-03,
                   -3.099246e-02, 8.253468e-02, -6.804435e-02, -6.491946e-02, 1.925414e-01,
                   -1.383460e-01, -6.243021e-02, 1.952435e-01, -1.561774e-01, 4.403841e-02,
                   2.095602e-02, -2.499755e-02, 1.057952e-02, -2.252298e-03, 2.011128e-04])
print(f"slides: largest |residual| {np.abs(slides).max():.4f}, "
      f"at the ends {abs(slides[0]):.1e} and {abs(slides[-1]):.1e}")

# %% [markdown]
# As in the slides, the residuals are tiny at the two ends and largest in the middle: at
# most 0.15 here, 0.20 in the slides (their points come from their own curve and random
# number generator, so the individual values differ, but the pattern is the same). With 4 more
# points than coefficients a degree-15 polynomial cannot pass through all of them; a
# polynomial of degree 19, with 20 coefficients, interpolates the 20 points exactly.
# `Polynomial.fit` maps $x$ to $[-1, 1]$ before fitting, which keeps the least-squares problem
# well conditioned even at this degree (the slides warn that larger degrees have numerical
# problems with a less careful basis):

# %%
poly19 = Polynomial.fit(x_reg, y_reg, deg=19)
print(f"degree 19: largest |residual| {np.abs(y_reg - poly19(x_reg)).max():.1e}")
x_fine = np.linspace(0, 1, 1000)
for name, p in (("degree 15", poly15), ("degree 19", poly19)):
    values = p(x_fine)
    print(f"{name}: between the points the curve ranges from {values.min():.2f} to "
          f"{values.max():.2f}; sin(2 pi x) stays in [-1, 1]")

# %%
fig, ax = plt.subplots(figsize=(8, 4.6))
ax.plot(x_fine, regression_truth(x_fine), "k--", lw=1.5, label=r"truth $\sin(2\pi x)$")
ax.plot(x_fine, poly15(x_fine), color="C0", lw=1.8, label="degree 15 fit")
ax.plot(x_fine, poly19(x_fine), color="C3", lw=1.2, alpha=0.8, label="degree 19 interpolation")
ax.plot(x_reg, y_reg, "ko", ms=5, label="20 training points")
ax.set_ylim(-3, 3)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("High-degree polynomials: through the points, wild in between")
ax.legend(loc="lower left", fontsize=10)
ax.grid(True, alpha=0.3)
plt.show()

# %% [markdown]
# To measure how well a model does on *new* data, draw a separate validation set of 100
# points from the same distribution (same curve, same noise, other random draws). The error
# we report is the mean squared error $\frac1m \sum_i (\hat y^{(i)} - y^{(i)})^2$; since the
# noise has variance $0.1^2 = 0.01$, no model can do better than about 0.01 on average.

# %%
X_val, Y_val = noisy_regression(m=100, noise=0.1, seed=1)


def mse(predict, X, Y):
    return float(np.mean((predict(X) - Y) ** 2))


print(f"noise alone on the validation set: {mse(regression_truth, X_val, Y_val):.4f}")
print(f"degree-15 polynomial: train {mse(poly15, x_reg, y_reg):.4f}, "
      f"validation {mse(poly15, X_val[0], Y_val[0]):.4f}")

# %% [markdown]
# Now a neural network with 1153 parameters, a 1-32-32-1 tanh network with a linear output
# and the half squared error, trained with full-batch Adam (learning rate 0.01) for 4000
# epochs, three ways:
#
# 1. **plain**, as long as we like;
# 2. with an **L2 penalty**: the cost gets a penalty on the weights (not the biases),
#    $J = \frac1m \sum_i C^{(i)} + \lambda \sum_l \lVert W^{[l]} \rVert^2$, whose gradient
#    adds $2\lambda W^{[l]}$ (what that does to a step depends on the optimizer, see below);
# 3. with **early stopping**: watch the validation cost after each epoch, stop when it has not
#    improved for `patience` epochs, and go back to the weights of the best epoch
#    (`train(..., X_val=..., Y_val=..., early_stopping=patience)`).
#
# **L2 penalty and weight decay.** With plain gradient descent the penalty's gradient makes
# every step shrink the weights by a constant factor,
# $W \leftarrow W - \eta\,(2\lambda W + \partial C / \partial W) = (1 - 2\eta\lambda)\,W - \eta\,
# \partial C / \partial W$, hence the name **weight decay**. That picture holds for SGD only.
# Adam divides the whole gradient, penalty included, coordinate by coordinate by the root of
# its running mean square: a weight whose gradient comes mostly from the penalty is pulled
# towards zero by about $\eta$ per step however small $2\lambda W$ is, and a weight with
# large data gradients hardly feels the penalty. Here is one weight $W = 0.05$ whose data
# gradient is zero, with $\eta = 0.01$ and $\lambda = 3 \cdot 10^{-4}$ as below:

# %%
lam, eta = 3e-4, 0.01
for name in ("sgd", "adam"):
    opt = make_optimizer(name, lr=eta)
    one = {"W": np.array([0.05])}
    values = [one["W"][0]]
    for _ in range(3):
        opt.step(one, {"W": 2 * lam * one["W"]})  # only the penalty's gradient 2 lambda W
        values.append(one["W"][0])
    print(f"{name:5s} W: " + " -> ".join(f"{v:.6f}" for v in values))
print(f"SGD's factor per step: 1 - 2 eta lambda = {1 - 2 * eta * lam:.6f}")

# %% [markdown]
# Under SGD the weight shrinks by the factor $1 - 6 \cdot 10^{-6}$ per step; Adam moves it
# from 0.05 to 0.040 in one step and on by about $\eta$ per step. With Adam the penalty still
# keeps the weights small, but it is not a multiplicative decay. The fix, when that decay is
# wanted, is **decoupled weight decay** (the optimizer AdamW): shrink the weights by a factor
# $1 - \eta\lambda'$ *outside* the adaptive step, and give Adam only the data gradient.
# The networks below use Adam with the L2 penalty.
#
# The cost that `train` records includes the penalty, so the curves below record the plain
# mean squared error after every epoch with a callback.

# %%
def fit_network(l2=0.0, early_stopping=None, epochs=4000):
    net = MLP([1, 32, 32, 1], hidden="tanh", output="identity", loss="half_sse", l2=l2,
              seed=0)
    curves = {"train": [], "val": []}

    def record(epoch, history, net):
        curves["train"].append(mse(net.forward, X_reg, Y_reg))
        curves["val"].append(mse(net.forward, X_val, Y_val))

    history = train(net, X_reg, Y_reg, epochs=epochs, batch_size=20, optimizer="adam",
                    lr=0.01, X_val=X_val, Y_val=Y_val, early_stopping=early_stopping,
                    seed=0, callback=record)
    return net, history, curves


models = {
    "plain network": fit_network(),
    "L2 penalty (lambda = 3e-4)": fit_network(l2=3e-4),
    "early stopping (patience 200)": fit_network(early_stopping=200),
}
print("parameters per network:", models["plain network"][0].num_parameters())
stopped = models["early stopping (patience 200)"][1]
print(f"early stopping: stopped after epoch {stopped.epochs}, "
      f"kept the weights of epoch {stopped.best_epoch}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(9, 3.6), sharey=True)
for ax, (name, (net, history, curves)) in zip(axes, models.items()):
    ax.loglog(range(1, len(curves["train"]) + 1), curves["train"], label="training MSE")
    ax.loglog(range(1, len(curves["val"]) + 1), curves["val"], label="validation MSE")
    ax.axhline(0.01, color="k", ls=":", lw=1, label="noise variance 0.01")
    if history.best_epoch:
        ax.axvline(history.best_epoch, color="C2", ls="--", lw=1.2, label="best epoch kept")
    ax.set_title(name)
    ax.set_xlabel("epoch (log scale)")
    ax.grid(True, which="both", alpha=0.3)
axes[0].set_ylabel("mean squared error (log scale)")
axes[0].legend(fontsize=10)
axes[2].legend(fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The plain network drives its training error far below the noise level, towards zero,
# while its validation error first falls and then climbs again: from there on it learns the
# noise. The L2 penalty keeps the training error near the noise level and the validation
# error with it. Early stopping cuts the plain run at the bottom of its validation curve.

# %%
fig, ax = plt.subplots(figsize=(8, 4.6))
X_fine = x_fine.reshape(1, -1)  # (1, 1000): one input per column
ax.plot(x_fine, regression_truth(x_fine), "k--", lw=1.5, label=r"truth $\sin(2\pi x)$")
for (name, (net, _, _)), colour in zip(models.items(), ("C3", "C0", "C2")):
    ax.plot(x_fine, net.forward(X_fine)[0], color=colour, lw=1.8, label=name)
ax.plot(x_reg, y_reg, "ko", ms=5, label="20 training points")
ax.set_ylim(-1.6, 1.6)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("The three networks on a fine grid")
ax.legend(loc="lower left", fontsize=10)
ax.grid(True, alpha=0.3)
plt.show()

# %%
rows = [("degree-15 polynomial", mse(poly15, x_reg, y_reg), mse(poly15, X_val[0], Y_val[0]))]
rows += [(name, mse(net.forward, X_reg, Y_reg), mse(net.forward, X_val, Y_val))
         for name, (net, _, _) in models.items()]
print(f"{'model':34s} {'train MSE':>10s} {'validation MSE':>15s}")
for name, train_err, val_err in rows:
    print(f"{name:34s} {train_err:10.4f} {val_err:15.4f}")

# %% [markdown]
# The two models that fit the training points best (the polynomial and the plain network)
# are the two worst on new data. The L2 penalty and early stopping give up a little training
# error and come close to the noise floor of the validation set (0.0073, printed above).
#
# **Check yourself.** Early stopping picks the epoch with the lowest *validation* error.
# Is that validation error a fair estimate of the error on new data?
#
# <details><summary>Answer</summary>
#
# Not quite: the validation set was used to choose the stopping epoch (and here also to
# choose $\lambda$), so its error is slightly optimistic, the same way a training error is
# optimistic, only much less. A fair estimate needs a third set that played no part in any
# choice, a **test set**, as in the digits example above.
#
# </details>
#
# **Check yourself.** Why does Adam move the weight of the cell above by about $\eta$ in its
# first step, although the gradient $2\lambda W = 3 \cdot 10^{-5}$ is tiny?
#
# <details><summary>Answer</summary>
#
# In the first step the bias-corrected averages are $\hat{\mathbf m} = g$ and $\hat v = g^2$,
# so the step is $\eta\, g / (\sqrt{g^2} + \epsilon) \approx \eta$ whatever the size of $g$:
# Adam keeps only the sign of a gradient that has always been the same. As long as the
# penalty is the only gradient, every step is about $\eta$, and the weight reaches zero in a
# handful of steps instead of shrinking by $1 - 2\eta\lambda$ per step as under SGD.
#
# </details>

# %% [markdown]
# ## 9. Hidden layers as pre-processing, and pre-processing by an earlier model
#
# The lectures offer another view of a network: the input and hidden layers **pre-process** the
# inputs so that the output layer's job is easier. The output layer of the digit network of
# section 7 is softmax regression, a linear classifier, applied to the 32 hidden activations
# $A^{[1]}$ instead of the 64 pixels; everything before it is a learned feature map. The
# network's output is exactly that:

# %%
from course.activations import softmax

digit_net.forward(Xd_test)
A1_test = digit_net.cache["A1"]  # the hidden layer's 32 features of every test digit
output_layer = softmax(digit_net.params["W2"] @ A1_test + digit_net.params["b2"])
print(f"features A1 {A1_test.shape}; the output layer alone on them reproduces the network:",
      np.allclose(output_layer, digit_net.forward(Xd_test), rtol=1e-12, atol=0))

# %% [markdown]
# The lectures go on: the pre-processing could be done by **a previously built model**, and
# pre-processing by **unsupervised** training (without labels) is very effective. Both matter
# when labels are scarce. The experiment below has a new task with few labels, the digits of
# a new half of the training set of which we may label only a few per class, and three ways to
# give the same small classifier its inputs:
#
# 1. **pixels**: softmax regression on the 64 raw pixels;
# 2. **an earlier model**: a 64-32-10 network trained earlier, by someone else, on the *other*
#    half of the training set with all its labels. Its hidden layer is **frozen** (its weights
#    are never changed again) and used as a feature map; only a new output layer learns;
# 3. **unsupervised**: an **autoencoder** 64-32-64, a network trained with the course's
#    backprop to reproduce its input (targets $Y = X$, identity output, squared error) on the
#    pixels of the whole training set and no label at all. Its 32 hidden units must keep what
#    the 64 pixels need to be rebuilt; they are the features.
#
# The classifier is the same in all three: `MLP([n_features, 10])` with a softmax output
# (softmax regression), weight decay $\lambda = 10^{-3}$, 100 full-batch Adam steps, on features
# divided by their standard deviation over the new half (no labels needed for that). Each number
# of labels is drawn 5 times (stratified: the same number per digit), and the test digits of
# section 7, which no model has seen, measure the accuracy.

# %%
X_earlier, X_new, y_earlier, y_new = train_test_split(Xd_train, yd_train, test_fraction=0.5,
                                                      seed=1, stratify=True)
print(f"earlier half {X_earlier.shape}, new half {X_new.shape}, test {Xd_test.shape}")

earlier_net = MLP([64, 32, 10], hidden="relu", output="softmax", loss="cross_entropy", seed=0)
train(earlier_net, X_earlier, y_earlier, epochs=30, batch_size=32, optimizer="adam",
      lr=0.003, seed=0)
print(f"the earlier model on the test digits: {earlier_net.accuracy(Xd_test, yd_test):.3f}")

autoencoder = MLP([64, 32, 64], hidden="relu", output="identity", loss="half_sse", seed=0)
ae_history = train(autoencoder, Xd_train, Xd_train, epochs=30, batch_size=32,
                   optimizer="adam", lr=0.003, seed=0)
print(f"autoencoder: cost (half the squared error per image) {ae_history.train_loss[0]:.3f} "
      f"after one epoch, {ae_history.train_loss[-1]:.3f} after 30")


def hidden_features(net):
    """The frozen feature map X -> A1 of a trained network."""
    def features(X):
        net.forward(X)
        return net.cache["A1"]
    return features


feature_maps = {
    "pixels": lambda X: X,
    "hidden layer of an earlier model": hidden_features(earlier_net),
    "autoencoder, no labels": hidden_features(autoencoder),
}
frozen = {k: v.copy() for k, v in earlier_net.params.items()}

# %% [markdown]
# The autoencoder's reconstructions show what its 32 features keep (top: test digits it never
# saw; bottom: rebuilt from their 32 hidden activations):

# %%
rebuilt = autoencoder.forward(Xd_test[:, :8])
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for j in range(8):
    axes[0, j].imshow(Xd_test[:, j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[1, j].imshow(np.clip(rebuilt[:, j], 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    for ax in axes[:, j]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("input", fontsize=10)
axes[1, 0].set_ylabel("rebuilt", fontsize=10)
fig.suptitle("The autoencoder rebuilds test digits from 32 features, learned without labels",
             fontsize=11)
plt.show()

# %%
per_class = [1, 2, 5, 10, 20, 50]
draws = 5
accuracy = {name: np.zeros((len(per_class), draws)) for name in feature_maps}
for name, features in feature_maps.items():
    F_new, F_test = features(X_new), features(Xd_test)
    scale = F_new.std()  # from the new half's inputs only, no labels
    for i, k in enumerate(per_class):
        for d in range(draws):
            pick = np.random.default_rng(d)
            labelled = np.concatenate([pick.choice(np.flatnonzero(y_new == c), k, replace=False)
                                       for c in range(10)])
            classifier = MLP([F_new.shape[0], 10], output="softmax", loss="cross_entropy",
                             l2=1e-3, seed=0)
            train(classifier, F_new[:, labelled] / scale, y_new[labelled], epochs=100,
                  batch_size=labelled.size, optimizer="adam", lr=0.05, seed=0)
            accuracy[name][i, d] = classifier.accuracy(F_test / scale, yd_test)
assert all(np.array_equal(frozen[k], earlier_net.params[k]) for k in frozen)  # still frozen

print("test accuracy, mean of 5 draws of the labelled digits")
print(f"{'labels':>6} " + " ".join(f"{name:>34}" for name in feature_maps))
for i, k in enumerate(per_class):
    print(f"{10 * k:>6} " + " ".join(f"{accuracy[name][i].mean():34.3f}" for name in feature_maps))

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.2))
labels_total = 10 * np.array(per_class)
for (name, acc), marker in zip(accuracy.items(), ["o", "s", "^"]):
    ax.errorbar(labels_total, acc.mean(axis=1), yerr=acc.std(axis=1), marker=marker,
                capsize=3, label=name)
ax.set_xscale("log")
ax.set_xticks(labels_total)
ax.set_xticklabels([str(n) for n in labels_total])
ax.set_xlabel("labelled training digits (the same number of each digit)")
ax.set_ylabel("accuracy on the 359 test digits")
ax.set_title("Softmax regression on three kinds of input (mean and spread of 5 draws)",
             fontsize=11)
ax.grid(True, alpha=0.3)
ax.legend(loc="lower right", fontsize=10)
plt.show()

# %% [markdown]
# What the numbers say:
#
# - **The earlier model's features win, and most where labels are fewest.** With one label per
#   digit (10 labels) the new output layer is right on 0.825 of the test digits, softmax
#   regression on the pixels on 0.619. The gap closes as labels grow, and at 500 labels the
#   pixels have caught up (0.962 against 0.959): with enough labels a linear classifier finds
#   its way in pixel space too. The earlier model did the expensive part, learning which
#   combinations of pixels tell digits apart, with labels somebody else paid for; the new task
#   only has to learn the 330 parameters of an output layer (printed below). This is why
#   networks trained on large labelled data sets are reused as frozen feature maps.
# - **The autoencoder's features, learned without a label, do a little worse than the pixels
#   here, never better.** They keep what is needed to *rebuild* the pixels, which is not
#   necessarily what *separates* the digits, and these 8 x 8 pixels are already nearly
#   linearly separable. Unsupervised pre-processing pays when raw inputs are large and
#   redundant and unlabelled data are plentiful; historically it is how the first deep networks
#   were trained (one layer at a time, each an autoencoder of the one below) before the
#   initialisations of notebook 08 made that unnecessary. On this small data set the
#   measurement does not confirm "very effective", and that is worth knowing too.
#
# %%
print("parameters of the new output layer on 32 features:", MLP([32, 10]).num_parameters())
acc10 = {name: round(float(acc[0].mean()), 3) for name, acc in accuracy.items()}
acc500 = {name: round(float(acc[-1].mean()), 3) for name, acc in accuracy.items()}
print("10 labels: ", acc10)
print("500 labels:", acc500)
assert acc10["hidden layer of an earlier model"] > acc10["pixels"] + 0.1

# %% [markdown]
# **Check yourself.** Why must the earlier model be trained on the other half, and not on the
# whole training set (or the test digits)?
#
# <details><summary>Answer</summary>
#
# The test digits judge all three variants, so no model may have seen them, or the accuracy
# of the second variant would be optimistic. And the earlier model stands for a model built
# before the new task, on other data: had it seen the labels of the new half, the second
# variant would secretly use far more than the 10 to 500 labels on the horizontal axis.
#
# </details>

# %% [markdown]
# ## Summary
#
# - A batch generator visits every sample once per epoch in a new random order; $m = 32$
#   with batches of 12 gives batches of 12, 12 and 8.
# - The full gradient is the mean of the per-sample gradients; a mini-batch of $b$ samples
#   estimates it without bias, with an error that shrinks only like $1/\sqrt b$, so small
#   vectorised batches give the most progress per unit of work.
# - Per-sample errors $\frac{\partial C}{\partial Z^{[l]}}$ travel back unaveraged; the
#   parameter gradients average them: $\frac{\partial C}{\partial W^{[l]}} = \frac1m
#   \frac{\partial C}{\partial Z^{[l]}} A^{[l-1]T}$ and $\frac{\partial C}{\partial
#   \mathbf{b}^{[l]}} = \frac1m \frac{\partial C}{\partial Z^{[l]}} \mathbf{1}$. Forgetting
#   $\frac1m$ multiplies every gradient by $m$.
# - Momentum accelerates along consistent directions but overshoots; Nesterov's look-ahead
#   damps it; AdaGrad, RMSProp and Adam scale each coordinate by its gradient history, and
#   Adam adds momentum and bias correction.
# - Decaying the learning rate (step, exponential, inverse time, cosine) lets training settle
#   where a constant rate keeps jittering.
# - The dashboard (`course.playground.dashboard()`) trains live; a 64-32-10 ReLU network
#   reaches about 98% on held-out handwritten digits in a fraction of a second.
# - Flexible models overfit small data: training error far below the noise, validation error
#   rising. An L2 penalty ($+\lambda \sum \lVert W \rVert^2$) and early stopping bring the
#   validation error back near the noise floor. Under plain SGD the penalty is a weight
#   decay by the factor $1 - 2\eta\lambda$ per step; Adam rescales it per coordinate, and
#   decoupled weight decay (AdamW) restores the constant factor.
# - The hidden layers pre-process the inputs for the output layer. A frozen hidden layer of an
#   earlier model, trained on other labelled data, lifts softmax regression with few labels far
#   above the same classifier on pixels; an autoencoder trained without labels learns features
#   that rebuild the digits, and on these digits matches the pixels without beating them.
#
# **Next:** [08 · Depth, initialisation and where backprop came from](08_depth_and_history.ipynb)
# — why one hidden layer is universal, why backprop sweeps backwards, and why deep networks need
# the right initial scale. Or go back to the dashboard and try to break (and then fix) a
# training run with what you have learned.
