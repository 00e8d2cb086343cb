# %% [markdown]
# # 06 · The MLP algorithm: forward and backward in matrix form
#
# A multilayer perceptron (MLP) is a chain of layers, each an affine map followed by an
# element-wise non-linearity. This notebook writes the whole training computation for such a
# network in matrix form — the forward pass (Algorithm 1), the backward pass (Algorithm 2) and the
# weight update with weight decay — first by hand in numpy, then checked against `course.mlp.MLP`
# and against finite differences. It then replays the lectures' 2-2-1 worked example number by
# number, and ends with what a hidden layer buys us: XOR.
#
# Prepares for problem set 3 (ps3, matrix backprop) with notebook 05, problem set 4 (ps4,
# mini-batch training: its network is the sigmoid network of the 2-2-1 example) with notebook 07,
# problem set 5 (ps5, a network of any depth) with notebooks 05, 07 and 08, and problem set 7 (ps7,
# debugging backprop: its tool is this notebook's gradient check) with notebooks 04, 05 and 07.
# The exercises in the text check your answer when you run their cell; after trying,
# `solution("name")` prints a worked answer.
#
# **What you will be able to do**
#
# - write a layer as $Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}$, $A^{[l]} = f(Z^{[l]})$ and give the
#   shape of every array, including every gradient;
# - choose the output activation and the cost from the task, and explain why three of the pairs
#   give the error term $\hat y - t$ at the output;
# - implement Algorithms 1 and 2 with weight decay in a dozen lines of numpy and verify them to
#   $10^{-12}$;
# - carry the 2-2-1 sigmoid example through forward pass, error terms, gradients and one update,
#   and say exactly why the slides' numbers differ from the exact ones in the fourth digit;
# - count parameters, explain why zero initialisation fails, and build and train a network that
#   computes XOR.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, sigmoid, softmax, tanh_prime
from course.data import logic_gate, moons, xor
from course.exercises import check, solution
from course.gradcheck import check_gradients, numerical_gradient, relative_error
from course.graph import Value
from course.losses import OUTPUT_LOSSES
from course.mlp import MLP, count_parameters
from course.optim import SGD
from course.train import train
from course.viz import plot_decision_boundary

plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11})


def mat(M, digits=6):
    """A small array as text with a fixed number of decimals (identical on every run)."""
    return np.array2string(
        np.asarray(M, dtype=float), formatter={"float_kind": lambda v: f"{v:.{digits}f}"}
    )


# %% [markdown]
# ## 1. One layer: a node, then all nodes at once
#
# Node $i$ of layer $l$ adds its bias to the weighted sum of the previous layer's activations
# (this sum is often called the node's *net* value) and passes it through the activation $f$:
#
# $$z_i^{[l]} = b_i^{[l]} + \mathbf w_i^{[l]} \cdot \mathbf a^{[l-1]}, \qquad
#   a_i^{[l]} = f\big(z_i^{[l]}\big).$$
#
# Layer $l$ has $N_l$ nodes. Stack the biases into a column $\mathbf b^{[l]}$ of length $N_l$ and
# write the weights **of node $i$ as row $i$** of a matrix $W^{[l]}$. That matrix turns a vector
# of length $N_{l-1}$ into one of length $N_l$, so it is $N_l \times N_{l-1}$, and all nodes of the
# layer are computed at once:
#
# $$\mathbf z^{[l]} = \mathbf b^{[l]} + W^{[l]} \mathbf a^{[l-1]}, \qquad
#   \mathbf a^{[l]} = f\big(\mathbf z^{[l]}\big)\ \text{(element by element)}.$$
#
# It is the single-node equation again, now as a matrix–vector equation. The cell below computes a
# layer of 4 nodes on 3 inputs both ways.

# %%
rng = np.random.default_rng(0)
N_prev, N_l = 3, 4
W = rng.normal(size=(N_l, N_prev))  # row i = the weights of node i
b = rng.normal(size=(N_l, 1))
a_prev = rng.normal(size=(N_prev, 1))  # a column vector

z_nodes = np.array([[b[i, 0] + W[i] @ a_prev[:, 0]] for i in range(N_l)])  # node by node
z_layer = b + W @ a_prev  # the whole layer
print("W:", W.shape, " a[l-1]:", a_prev.shape, " b:", b.shape, " z:", z_layer.shape)
print("node by node :", mat(z_nodes.ravel()))
print("matrix form  :", mat(z_layer.ravel()))
assert np.allclose(z_nodes, z_layer)

# %% [markdown]
# With a mini-batch the columns of $X$ (shape $n_0 \times m$) are samples; $WX$ is $W$ applied to
# each column, and $\mathbf b$ is broadcast along the columns:
# $Z^{[1]} = W^{[1]} X + \mathbf b^{[1]}$ has shape $N_1 \times m$.
#
# Backprop needs one more product: the **Hadamard product** $\mathbf x \odot \mathbf y$,
# entry by entry, which is `*` in numpy. It is what the Jacobian of an element-wise activation
# reduces to: that Jacobian is the diagonal matrix $\operatorname{diag}(f'(\mathbf z))$, and
# multiplying a vector by a diagonal matrix is the same as a Hadamard product with its diagonal.

# %%
X_batch = rng.normal(size=(N_prev, 5))  # m = 5 samples, one per column
Z_batch = W @ X_batch + b
print("X:", X_batch.shape, "-> Z = W X + b:", Z_batch.shape)

fp = tanh_prime(z_layer)  # f'(z) for f = tanh, shape (4, 1)
v = rng.normal(size=(N_l, 1))
print("diag(f'(z)) @ v :", mat((np.diagflat(fp) @ v).ravel()))
print("f'(z) * v       :", mat((fp * v).ravel()))
assert np.allclose(np.diagflat(fp) @ v, fp * v)

# %% [markdown]
# ## 2. Designing a network
#
# A fully connected network is fixed by a handful of choices:
#
# - the length of the input vector (for 28×28 images, $N_0 = 784$);
# - the number of hidden layers and the number of nodes in each;
# - the hidden activation (usually the same in all hidden layers, always element-wise);
# - the **cost**, which the task dictates, and the **output activation**, chosen to fit that cost.
#
# We describe a network by its widths $N_0/N_1/\dots/N_L$ and count its layers by its sets of
# adjustable weights: a 2-3-1 network has one hidden layer and two layers of weights.
#
# | task | output $g$ | cost per sample | $\partial C / \partial \mathbf z^{[L]}$ |
# | --- | --- | --- | --- |
# | regression | identity | $\frac12 \lVert \hat y - t \rVert^2$ | $\hat y - t$ |
# | two classes | sigmoid | $-t\ln\hat y-(1-t)\ln(1-\hat y)$ | $\hat y - t$ |
# | $K$ classes | softmax | $-\sum_k t_k \ln \hat y_k$ | $\hat y - t$ |
# | (a poor match) | sigmoid | $\tfrac12(\hat y - t)^2$ | $(\hat y - t)\,\hat y(1-\hat y)$ |
#
# The three matched pairs all start backprop with the same tidy error term
# $\hat{\mathbf y} - \mathbf t$: each output's derivative cancels against its loss's. The
# softmax is the only activation here that is *not* element-wise (every output depends on every
# $z_k$), which is why one works with $\partial C/\partial \mathbf z^{[L]}$ directly. Sigmoid with
# squared error breaks the pattern: the factor $\hat y (1 - \hat y)$ survives and becomes tiny
# when the sigmoid saturates. Finite differences confirm every row of the table:

# %%
rng = np.random.default_rng(1)
Z_out = rng.normal(size=(3, 1))
targets = {
    "identity": rng.normal(size=(3, 1)),
    "sigmoid": np.array([[1.0], [0.0], [1.0]]),
    "softmax": np.array([[0.0], [1.0], [0.0]]),
}
print(f"{'output + loss':26s} {'|dC/dz - (yhat - t)|':>22s} {'rel. error of .delta':>22s}")
for (output, loss), head in OUTPUT_LOSSES.items():
    T = targets[output]
    z = Z_out.copy()

    def cost(head=head, z=z, T=T):
        return float(head.per_sample(z, head.activate(z), T)[0])

    numeric = numerical_gradient(cost, z)  # dC/dz by centred differences
    yhat = head.activate(z)
    gap = np.abs(numeric - (yhat - T)).max()
    err = relative_error(head.delta(z, yhat, T), numeric)
    print(f"{output + ' + ' + loss:26s} {gap:22.2e} {err:22.2e}")

# %% [markdown]
# For the three matched pairs the gap is finite-difference noise ($10^{-12}$ to $10^{-11}$):
# their $\partial C/\partial \mathbf z^{[L]}$ is $\hat{\mathbf y} - \mathbf t$. The sigmoid +
# squared-error row misses by a visible amount, and its own formula with the factor
# $\hat y(1-\hat y)$ (the package's `.delta`, last column) is the one that matches.
#
# ## 3. The idea behind back-propagation
#
# Nobody tells us what a hidden unit *should* output, so there is no target to train it towards.
# What we can compute is **how fast the error changes when a hidden activity changes**. So instead
# of desired activities, backprop trains hidden units with error derivatives with respect to their
# activities:
#
# - first turn the mismatch between each output and its target into an error derivative at that
#   output;
# - a hidden activity feeds many output units, so it has many separate effects on the error;
#   these effects are **added up** (weighted by the connecting weights) to get its own error
#   derivative — for all hidden units of a layer at once, with one matrix product;
# - once the error derivative of a hidden activity is known, the derivative for each weight
#   coming *into* that unit is one multiplication away: error derivative times the incoming
#   activity.
#
# Repeating the middle step layer by layer, from the top down, reaches every weight.
#
# ## 4. Algorithms 1 and 2
#
# In the lectures' notation a network has $l$ affine layers; layer $k$ maps its input
# $\mathbf h^{k-1}$ to a pre-activation $\mathbf a^k$ and then to $\mathbf h^k = f(\mathbf a^k)$.
# The cost adds a regulariser $\Omega$ to the loss.
#
# **Algorithm 1 (forward).** $\mathbf h^0 = \mathbf x$; for $k = 1,\dots,l$:
# $\mathbf a^k = \mathbf b^k + W^k \mathbf h^{k-1}$, $\mathbf h^k = f(\mathbf a^k)$; then
# $\hat{\mathbf y} = \mathbf h^l$ and $J = L(\hat{\mathbf y}, \mathbf y) + \lambda\Omega$.
#
# **Algorithm 2 (backward).** $\mathbf g \leftarrow \nabla_{\hat{\mathbf y}} J$; for
# $k = l, l-1, \dots, 1$:
#
# 1. $\mathbf g \leftarrow \nabla_{\mathbf a^k} J = \mathbf g \odot f'(\mathbf a^k)$
#    (from the layer's output to its pre-activation);
# 2. $\nabla_{\mathbf b^k} J = \mathbf g + \lambda \nabla_{\mathbf b^k}\Omega$ and
#    $\nabla_{W^k} J = \mathbf g\, \mathbf h^{k-1\,T} + \lambda \nabla_{W^k}\Omega$;
# 3. $\mathbf g \leftarrow \nabla_{\mathbf h^{k-1}} J = W^{k\,T} \mathbf g$ (down one layer).
#
# The course writes the same quantities as the layer-indexed arrays of the package:
#
# | lectures | course | shape (batch of $m$) |
# | --- | --- | --- |
# | $\mathbf h^{k}$ (activation) | `A[k]` ($A^{[k]}$), `A[0] = X` | $(n_k, m)$ |
# | $\mathbf a^{k}$ (pre-activation) | `Z[k]` ($Z^{[k]}$) | $(n_k, m)$ |
# | $\mathbf g$ after step 1 | `delta[k]` $= \partial J/\partial Z^{[k]}$ | $(n_k, m)$ |
# | $\Omega$ | $\sum_k \lVert W^{[k]}\rVert^2$ (weights only) | scalar |
#
# Two details of the batch version: the cost is a **mean** over the $m$ columns, so a factor
# $1/m$ enters once, at the top, in `delta[L]`; and a bias touches every column, so its gradient
# **sums** `delta` over the columns. So `delta[k]` is the gradient of the mean cost and contains
# the $1/m$ (problem sets 3 and 4 call it `dZ`); notebooks 05 and 07, like the lectures'
# mini-batch slides, write $dZ$ or $\partial C/\partial Z$ for the unaveraged per-sample matrix,
# $m$ times `delta[k]`, and divide by $m$ in the parameter gradients instead.
#
# With $\Omega = \sum_k \lVert W^{[k]} \rVert^2$, $\nabla_W \Omega = 2W$ and
# $\nabla_{\mathbf b}\Omega = 0$. The output layer enters the loop already converted (step 1
# for $k = l$ is the output delta of section 2), because a softmax is not element-wise.
#
# Here are both algorithms, written out by hand:


# %%
def output_delta(output, loss, Z_L, Y_hat, T):
    """dC/dZ[L] for one sample per column (section 2): Y_hat - T, except sigmoid + half SSE."""
    if output == "sigmoid" and loss == "half_sse":
        return (Y_hat - T) * Y_hat * (1.0 - Y_hat)
    return Y_hat - T


def forward_by_hand(params, X, hidden, output):
    """Algorithm 1 on a batch X of shape (n_0, m); returns the cache {"A0", "Z1", "A1", ...}."""
    f, g = ACTIVATIONS[hidden].f, {"sigmoid": sigmoid, "softmax": softmax}.get(output)
    L = len(params) // 2
    cache = {"A0": X}  # h^0 = x
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ cache[f"A{l - 1}"] + params[f"b{l}"]  # a^k = b^k + W^k h^(k-1)
        cache[f"Z{l}"] = Z
        if l < L:
            cache[f"A{l}"] = f(Z)  # h^k = f(a^k)
        else:
            cache[f"A{l}"] = Z if g is None else g(Z)  # y_hat = h^l (output activation)
    return cache


def backward_by_hand(params, cache, T, hidden, output, loss, l2=0.0):
    """Algorithm 2: (grads, deltas) with grads["W1"] = dJ/dW1 etc. and deltas[l] = dJ/dZ[l]."""
    f_prime = ACTIVATIONS[hidden].prime
    L = len(params) // 2
    m = T.shape[1]
    # g <- grad_yhat J, then g * f'(a^l): together the output delta, divided by m for the mean
    delta = output_delta(output, loss, cache[f"Z{L}"], cache[f"A{L}"], T) / m
    grads, deltas = {}, {}
    for l in range(L, 0, -1):  # for k = l, l-1, ..., 1
        deltas[l] = delta
        # grad W^k J = g h^(k-1)^T + lambda grad_W Omega, with grad_W Omega = 2 W
        grads[f"W{l}"] = delta @ cache[f"A{l - 1}"].T + 2.0 * l2 * params[f"W{l}"]
        # grad b^k J = g (summed over the m columns); Omega does not contain biases
        grads[f"b{l}"] = delta.sum(axis=1, keepdims=True)
        if l > 1:
            g = params[f"W{l}"].T @ delta  # g <- W^k^T g: gradient on h^(k-1)
            delta = g * f_prime(cache[f"Z{l - 1}"], cache[f"A{l - 1}"])  # g * f'(a^(k-1))
    return {k: grads[k] for k in params}, deltas


# %% [markdown]
# A 4-5-3 network with tanh hidden units, a softmax output, a batch of $m = 6$ and weight decay
# $\lambda = 0.01$. We copy the package network's parameters and compare every gradient:

# %%
sizes, m = [4, 5, 3], 6
rng = np.random.default_rng(2)
X = rng.normal(size=(sizes[0], m))
labels = rng.integers(0, sizes[-1], size=m)
T = np.eye(sizes[-1])[:, labels]  # one-hot targets, shape (3, 6)

net = MLP(sizes, hidden="tanh", output="softmax", loss="cross_entropy", l2=0.01, seed=3)
cache = forward_by_hand(net.params, X, "tanh", "softmax")
grads, deltas = backward_by_hand(net.params, cache, T, "tanh", "softmax", "cross_entropy", 0.01)
reference = net.gradients(X, T)

print(f"{'param':6s} {'shape':>8s} {'max |hand - MLP|':>18s}")
for k in net.params:
    diff = np.abs(grads[k] - reference[k]).max()
    print(f"{k:6s} {str(grads[k].shape):>8s} {diff:18.1e}")
    assert diff < 1e-12
print("forward caches agree:", all(np.allclose(cache[k], v) for k, v in net.cache.items()))

# %% [markdown]
# Every entry agrees to the last bits of a float64. The hand-written loop *is* the package's
# algorithm.
#
# ## 5. The regularised cost: weight decay on weights, not biases
#
# Let $\boldsymbol\omega$ collect all weights (every entry of every $W^{[l]}$) and
# $\boldsymbol\beta$ all biases. The regularised cost and its gradient-descent step with learning
# rate $\epsilon$ are
#
# $$J = \lambda \lVert\boldsymbol\omega\rVert^2 + \frac1m \sum_{i=1}^m L^{(i)}, \qquad
#   \boldsymbol\omega \leftarrow \boldsymbol\omega - \epsilon\big(2\lambda\boldsymbol\omega
#   + \nabla_{\boldsymbol\omega} L\big), \qquad
#   \boldsymbol\beta \leftarrow \boldsymbol\beta - \epsilon \nabla_{\boldsymbol\beta} L .$$
#
# Each step shrinks every weight by the factor $1 - 2\epsilon\lambda$ before the data gradient
# acts — hence "weight decay". Two networks with identical parameters, one with $\lambda = 0.05$
# and one without, must therefore differ by exactly $2\lambda W$ in the weight gradients and not at
# all in the bias gradients:

# %%
lam = 0.05
plain = MLP(sizes, hidden="tanh", output="softmax", loss="cross_entropy", l2=0.0, seed=3)
decay = MLP(sizes, hidden="tanh", output="softmax", loss="cross_entropy", l2=lam, seed=3)
g0, g1 = plain.gradients(X, T), decay.gradients(X, T)
for k in plain.params:
    extra = g1[k] - g0[k]
    if k.startswith("W"):
        dev = np.abs(extra - 2 * lam * plain.params[k]).max()
        print(f"{k}: max |(dJ/d{k} with decay - without) - 2*lambda*{k}| = {dev:.1e}")
    else:
        print(f"{k}: max |dJ/d{k} with decay - without|              = {np.abs(extra).max():.1e}")
penalty = lam * sum(np.sum(plain.params[f"W{l}"] ** 2) for l in (1, 2))
print(f"J with decay - J without = {decay.loss(X, T) - plain.loss(X, T):.10f}")
print(f"lambda * ||omega||^2     = {penalty:.10f}")

# %% [markdown]
# And one plain gradient-descent step of the package (`net.step` with `SGD`) is exactly the
# update rule above:

# %%
eps = 0.1
before = {k: v.copy() for k, v in decay.params.items()}
decay.step(X, T, SGD(lr=eps))
for k, p in before.items():
    if k.startswith("W"):
        by_rule = p - eps * (2 * lam * p + g0[k])  # omega <- omega - eps (2 lambda omega + grad L)
    else:
        by_rule = p - eps * g0[k]  # beta <- beta - eps grad L
    print(f"{k}: max |step - rule| = {np.abs(decay.params[k] - by_rule).max():.1e}")

# %% [markdown]
# ## 6. Error terms, layer by layer, and the shape of a gradient
#
# Call $\boldsymbol\delta^{[l]} = \partial C / \partial \mathbf z^{[l]}$ the **error term** of
# layer $l$ (a vector of length $N_l$). Backprop is three equations:
#
# $$\boldsymbol\delta^{[L]} = \frac{\partial C}{\partial \mathbf z^{[L]}}, \qquad
#   \boldsymbol\delta^{[l-1]} = f'\big(\mathbf z^{[l-1]}\big) \odot
#   \Big(W^{[l]\,T} \boldsymbol\delta^{[l]}\Big), \qquad
#   \frac{\partial C}{\partial \mathbf b^{[l]}} = \boldsymbol\delta^{[l]},\quad
#   \frac{\partial C}{\partial W^{[l]}} = \boldsymbol\delta^{[l]}\, \mathbf a^{[l-1]\,T}.$$
#
# The middle one is the "sum over the effects" of section 3: entry $j$ of
# $W^{[l]T}\boldsymbol\delta^{[l]}$ is $\sum_i W_{ij}^{[l]} \delta_i^{[l]}$, the error terms of all
# units that node $j$ feeds, weighted by the connections. The last one is an outer product,
# column $\times$ row, so it has the shape $N_l \times N_{l-1}$ of $W^{[l]}$: **a gradient always
# has its variable's shape.** With a batch, `delta[l]` has $m$ columns, $\delta A^T$ adds the $m$
# outer products, and the bias gradient sums the columns. The shapes of the 4-5-3 network above:

# %%
x1, t1 = X[:, :1], T[:, :1]  # a single sample: column vectors
c1 = forward_by_hand(net.params, x1, "tanh", "softmax")
g_one, d_one = backward_by_hand(net.params, c1, t1, "tanh", "softmax", "cross_entropy", 0.01)
print("one sample:")
for l in (2, 1):
    print(
        f"  layer {l}: W{l} {net.params[f'W{l}'].shape}  delta{l} {d_one[l].shape}  "
        f"a{l - 1} {c1[f'A{l - 1}'].shape}  dW{l} = delta a^T {g_one[f'W{l}'].shape}  "
        f"db{l} {g_one[f'b{l}'].shape}"
    )
print(f"a batch of m = {m}:")
for l in (2, 1):
    print(
        f"  layer {l}: delta{l} {deltas[l].shape}  A{l - 1} {cache[f'A{l - 1}'].shape}  "
        f"dW{l} = delta A^T {grads[f'W{l}'].shape}  db{l} {grads[f'b{l}'].shape}"
    )

# %% [markdown]
# **Check yourself.** A 784-100-10 network gets a mini-batch of $m = 32$ images. What are the
# shapes of $X$, $Z^{[1]}$, $\boldsymbol\delta^{[2]}$, $\partial J/\partial W^{[1]}$ and
# $\partial J / \partial \mathbf b^{[2]}$?
#
# <details><summary>Answer</summary>
#
# $X$ is $784 \times 32$ and $Z^{[1]} = W^{[1]}X + \mathbf b^{[1]}$ is $100 \times 32$ (one column
# per image). $\boldsymbol\delta^{[2]} = \partial J/\partial Z^{[2]}$ is $10 \times 32$. The
# gradients have the shapes of their variables, whatever $m$ is:
# $\partial J/\partial W^{[1]} = \boldsymbol\delta^{[1]} X^T$ is $(100 \times 32)(32 \times 784)
# = 100 \times 784$, and $\partial J/\partial \mathbf b^{[2]}$, the row sums of
# $\boldsymbol\delta^{[2]}$, is $10 \times 1$.
#
# </details>

# %% [markdown]
# **Exercise `delta_shape`.** Trace the shapes: what is the shape of $dZ^{[1]}$ in a 4-6-3 network
# on a batch of $m = 5$? Answer with a tuple. Replace `None` with your answer and run the cell: it
# says whether the answer is right, and if not, what the likely bug is.

# %%
sizes, m = [4, 6, 3], 5  # a 4-6-3 network, a mini-batch of m = 5 columns
answer = None  # your code here: dZ1 shape
check("delta_shape", answer)

# %% [markdown]
# **Exercise `hidden_delta`.** Compute the error term $dZ^{[1]}$ of a sigmoid hidden layer from
# $W^{[2]}$, the error term $dZ^{[2]}$ of the layer above, and that layer's $Z^{[1]}$ and
# $A^{[1]}$.

# %%
rng = np.random.default_rng(6)
W2 = rng.normal(size=(2, 3))
dZ2 = rng.normal(size=(2, 4))  # the error term of layer 2 for m = 4 examples
Z1 = rng.normal(size=(3, 4))
A1 = 1 / (1 + np.exp(-Z1))  # layer 1 is sigmoid
answer = None  # your code here: dZ1
check("hidden_delta", answer)

# %% [markdown]
# **Exercise `bias_gradient`.** From an error term $dZ^{[2]}$ that already holds the $\frac1m$,
# compute the bias gradient $db^{[2]}$ (the shape of $\mathbf{b}^{[2]}$).

# %%
dZ2 = np.array([[0.1, -0.3, 0.2, 0.4], [-0.2, 0.1, 0.05, -0.1]])  # holds the 1/m already
answer = None  # your code here: db2
check("bias_gradient", answer)

# %% [markdown]
# ## 7. The worked example: a 2-2-1 sigmoid network, by hand
#
# The lectures follow one sample through a small network: inputs $(0.35, 0.9)$, target
# $t = 0.5$, sigmoid units everywhere, no biases, loss $\frac12 (t - y)^2$, and weights
#
# $$W^{[1]} = \begin{bmatrix} W^1_{11} & W^1_{12} \\ W^1_{21} & W^1_{22} \end{bmatrix}
#   = \begin{bmatrix} 0.1 & 0.8 \\ 0.4 & 0.6 \end{bmatrix}, \qquad
#   W^{[2]} = \begin{bmatrix} 0.3 & 0.9 \end{bmatrix}.$$
#
# $W^1_{ij}$ connects input $j$ to hidden unit $i$ (row = receiving unit). The slides call the
# hidden outputs $x^1_1, x^1_2$ and the output $y = x^2_1$. The forward pass:

# %%
x = np.array([[0.35], [0.9]])
t = np.array([[0.5]])
ex = {
    "W1": np.array([[0.1, 0.8], [0.4, 0.6]]),
    "b1": np.zeros((2, 1)),
    "W2": np.array([[0.3, 0.9]]),
    "b2": np.zeros((1, 1)),
}
c = forward_by_hand(ex, x, "sigmoid", "sigmoid")
print(f"z1 = W1 x = {mat(c['Z1'].ravel())}")
print("   (0.1*0.35 + 0.8*0.9 = 0.755 and 0.4*0.35 + 0.6*0.9 = 0.68)")
print(f"{'':12s} {'slides':>8s} {'exact':>10s}")
for name, slide, exact in [
    ("x^1_1", 0.68, c["A1"][0, 0]),
    ("x^1_2", 0.6637, c["A1"][1, 0]),
    ("y = x^2_1", 0.69, c["A2"][0, 0]),
]:
    print(f"{name:12s} {slide:8.4f} {exact:10.6f}")
loss_before = 0.5 * float((t - c["A2"])[0, 0] ** 2)
print(f"loss 1/2 (t - y)^2 = {loss_before:.6f}")

# %% [markdown]
# ### The sign convention of the slides: sensitivities
#
# This example's slides define the error term with the opposite sign, as a **sensitivity**
#
# $$\delta_i^l = -\frac{\partial \mathcal L}{\partial\, net_i^l}, \qquad
#   \delta^L_i = (t_i - y_i)\,\sigma'(net^L_i), \qquad
#   \delta^l_i = \sigma'(net^l_i) \sum_k W^{l+1}_{ki}\,\delta^{l+1}_k, \qquad
#   \frac{\partial\mathcal L}{\partial W^l_{ij}} = -\,\delta^l_i\, x^{l-1}_j ,$$
#
# with $\sigma'(net) = x(1 - x)$ read off the stored activation. The course's
# $\delta = \partial C / \partial z$ is its negative, so the minus sign moves from the weight
# formula into the error term: **same gradients, error terms of opposite sign.** The slides'
# arithmetic, with their rounded intermediates, and the exact numbers in both conventions:

# %%
# The slides' arithmetic: forward values rounded (0.68, 0.6637, 0.69), the output sensitivity to
# 3 significant figures, the hidden ones to 2.
d2_slide = (0.5 - 0.69) * 0.69 * (1 - 0.69)
d11_slide = 0.68 * (1 - 0.68) * 0.3 * -0.0406
d12_slide = 0.6637 * (1 - 0.6637) * 0.9 * -0.0406
print(
    f"slides' arithmetic: delta^2_1 = {d2_slide:.6f} -> -0.0406, "
    f"delta^1_1 = {d11_slide:.6f} -> -0.0027, delta^1_2 = {d12_slide:.6f} -> -0.0082"
)

# Exact, in the sensitivity convention (delta = -dL/dnet)
y, h = c["A2"], c["A1"]
sens2 = (t - y) * y * (1 - y)
sens1 = h * (1 - h) * (ex["W2"].T @ sens2)
# Exact, in the course convention (delta = dC/dz), from the hand-written Algorithm 2
g_ex, d_ex = backward_by_hand(ex, c, t, "sigmoid", "sigmoid", "half_sse")

print(f"\n{'':10s} {'slides':>8s} {'sensitivity (exact)':>20s} {'course dC/dz (exact)':>21s}")
for name, slide, s, d in [
    ("delta^2_1", -0.0406, sens2[0, 0], d_ex[2][0, 0]),
    ("delta^1_1", -0.0027, sens1[0, 0], d_ex[1][0, 0]),
    ("delta^1_2", -0.0082, sens1[1, 0], d_ex[1][1, 0]),
]:
    print(f"{name:10s} {slide:8.4f} {s:20.6f} {d:21.6f}")
    assert np.isclose(s, -d)
print("\ndL/dW2 = -sens2 x1^T :", mat(-sens2 @ h.T), "  = delta2 a1^T :", mat(g_ex["W2"]))
print(
    "dL/dW1 = -sens1 x0^T :",
    mat(-sens1 @ x.T).replace("\n", ""),
    " = delta1 x^T :",
    mat(g_ex["W1"]).replace("\n", ""),
)

# %% [markdown]
# The error terms flip sign between the conventions; the gradients, which are what gradient
# descent uses, are the same numbers. Whichever convention a text uses, the check is the update:
# a weight must move *against* $\partial\mathcal L/\partial W$.
#
# Three independent witnesses agree with the hand-written backward pass: the package's
# `MLP.gradients`, the scalar graph engine of notebook 02 (`course.graph.Value`, which knows
# nothing about layers), and finite differences.

# %%
net221 = MLP([2, 2, 1], hidden="sigmoid", output="sigmoid", loss="half_sse")
for k, v in ex.items():
    net221.params[k][...] = v
g_mlp = net221.gradients(x, t)

# the same network as a scalar computational graph
xs = [Value(0.35), Value(0.9)]
w1 = [[Value(0.1), Value(0.8)], [Value(0.4), Value(0.6)]]
w2 = [Value(0.3), Value(0.9)]
hid = [(w1[i][0] * xs[0] + w1[i][1] * xs[1]).sigmoid() for i in range(2)]
out = (w2[0] * hid[0] + w2[1] * hid[1]).sigmoid()
graph_loss = 0.5 * (0.5 - out) ** 2
graph_loss.backward()
g_graph = {
    "W1": np.array([[w.grad for w in row] for row in w1]),
    "W2": np.array([[w.grad for w in w2]]),
}

g_num = {k: numerical_gradient(lambda: net221.loss(x, t), net221.params[k]) for k in ("W1", "W2")}
for k in ("W1", "W2"):
    print(f"{k}: hand {mat(g_ex[k]).replace(chr(10), '')}")
    print(
        f"    |hand - MLP| {np.abs(g_ex[k] - g_mlp[k]).max():.1e}, "
        f"|hand - Value graph| {np.abs(g_ex[k] - g_graph[k]).max():.1e}, "
        f"|hand - finite diff.| {np.abs(g_ex[k] - g_num[k]).max():.1e}"
    )

# %% [markdown]
# ### Gradients and the update, slides versus exact
#
# With learning rate $\eta = 1$ the update is $W \leftarrow W - \partial\mathcal L/\partial W$.
# The slides' gradients are their rounded error terms times the inputs (for example
# $0.0027 \times 0.35 = 0.000945$):

# %%
slide_grad = {
    "W1": np.array([[0.000945, 0.00243], [0.00287, 0.00738]]),
    "W2": np.array([[0.0276, 0.0269]]),
}
slide_new = {
    "W1": np.array([[0.0991, 0.7976], [0.3971, 0.5926]]),
    "W2": np.array([[0.2724, 0.8731]]),
}
# the slides' rounded error terms times the inputs reproduce their gradients
replay = {
    "W1": -np.array([[-0.0027], [-0.0082]]) @ x.T,
    "W2": -np.array([[-0.0406]]) @ np.array([[0.68, 0.6637]]),
}
for k in ("W1", "W2"):
    assert np.allclose(replay[k], slide_grad[k], atol=5e-5)

lr = 1.0
exact_new = {k: ex[k] - lr * g_ex[k] for k in ("W1", "W2")}
print(
    f"{'':9s} {'dL/dW slides':>13s} {'exact':>10s} {'diff':>10s}   "
    f"{'new W slides':>12s} {'exact':>9s} {'diff':>10s}"
)
for k in ("W1", "W2"):
    for idx in np.ndindex(ex[k].shape):
        name = f"{k}_{idx[0] + 1}{idx[1] + 1}"
        gs, ge = slide_grad[k][idx], g_ex[k][idx]
        ws, we = slide_new[k][idx], exact_new[k][idx]
        print(
            f"{name:9s} {gs:13.6f} {ge:10.6f} {gs - ge:10.6f}   "
            f"{ws:12.4f} {we:9.6f} {ws - we:10.6f}"
        )

# %% [markdown]
# The slides' values are off in the third significant figure of the gradients (up to 2% for
# $\partial\mathcal L/\partial W^1_{11}$). Nothing is wrong with the method: the slides round the
# forward values first ($y = 0.69$ instead of $0.690283$), carry the output error term with three
# significant figures and the hidden ones with **two** ($-0.0027$ for $-0.002654$), and the
# rounding travels into every gradient. Above, multiplying the slides' rounded error terms by the
# inputs reproduced every slide gradient. The updated weights differ by at most about $10^{-4}$.
#
# Did the step help? The loss before and after the update, with the exact and with the slides'
# weights:


# %%
def loss_221(params):
    y_new = forward_by_hand(params, x, "sigmoid", "sigmoid")["A2"]
    return 0.5 * float((t - y_new)[0, 0] ** 2)


after_exact = loss_221({**ex, **exact_new})
after_slide = loss_221({**ex, **slide_new})
y_after = forward_by_hand({**ex, **exact_new}, x, "sigmoid", "sigmoid")["A2"][0, 0]
print(f"loss before the update        : {loss_before:.6f}   (y = {c['A2'][0, 0]:.6f})")
print(f"after, exact weights          : {after_exact:.6f}   (y = {y_after:.6f})")
print(f"after, the slides' weights    : {after_slide:.6f}")
print(f"decrease (exact step)         : {loss_before - after_exact:.6f}")

# %% [markdown]
# One step moves $y$ from $0.690283$ towards the target $0.5$ and lowers the loss by about 8.5%;
# repeating forward, backward and update is training. The drawing summarises the pass: forward
# values in green, the error terms $\delta = \partial C/\partial z$ of the course convention in
# red, weights on the edges.


# %%
def draw_221(params, cache, deltas):
    """The 2-2-1 network with its weights, forward values and error terms."""
    pos = {"x1": (0, 2), "x2": (0, 0), "h1": (3, 2), "h2": (3, 0), "y": (6, 1)}
    fig, ax = plt.subplots(figsize=(9, 4.8))
    # (from, to, weight name, weight, where along the edge the label sits, vertical offset)
    W1, W2 = params["W1"], params["W2"]
    edges = [
        ("x1", "h1", "$W^1_{11}$", W1[0, 0], 0.5, 0.18),
        ("x2", "h1", "$W^1_{12}$", W1[0, 1], 0.22, 0.0),
        ("x1", "h2", "$W^1_{21}$", W1[1, 0], 0.22, 0.0),
        ("x2", "h2", "$W^1_{22}$", W1[1, 1], 0.5, -0.3),
        ("h1", "y", "$W^2_{11}$", W2[0, 0], 0.5, 0.22),
        ("h2", "y", "$W^2_{12}$", W2[0, 1], 0.5, -0.32),
    ]
    for a, b_, name, w, frac, dy in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b_]
        ax.plot([xa, xb], [ya, yb], color="0.6", lw=1.5, zorder=1)
        ax.text(
            xa + frac * (xb - xa),
            ya + frac * (yb - ya) + dy,
            f"{name} = {w:g}",
            fontsize=11,
            ha="center",
            va="center",
            bbox={"fc": "white", "ec": "none", "pad": 1.0},
            zorder=2,
        )
    values = {
        "x1": cache["A0"][0, 0],
        "x2": cache["A0"][1, 0],
        "h1": cache["A1"][0, 0],
        "h2": cache["A1"][1, 0],
        "y": cache["A2"][0, 0],
    }
    errors = {"h1": deltas[1][0, 0], "h2": deltas[1][1, 0], "y": deltas[2][0, 0]}
    for node, (px, py) in pos.items():
        ax.add_patch(plt.Circle((px, py), 0.32, fc="#dbe9f6", ec="black", zorder=3))
        ax.text(px, py, node, ha="center", va="center", fontsize=13, zorder=4)
        up = 1 if py > 0 else -1  # write outside the network: above the top row, below the bottom
        ax.text(
            px,
            py + up * 0.45,
            f"{values[node]:.4f}",
            color="green",
            ha="center",
            va="center",
            fontsize=12,
        )
        if node in errors:
            ax.text(
                px,
                py + up * 0.8,
                f"δ = {errors[node]:+.5f}",
                color="red",
                ha="center",
                va="center",
                fontsize=12,
            )
    ax.text(6, 0.4, "target t = 0.5", ha="center", va="center", fontsize=12)
    ax.set_xlim(-0.8, 6.8)
    ax.set_ylim(-1.1, 3.1)
    ax.set_aspect("equal")
    ax.set_xticks([0, 3, 6], ["inputs (layer 0)", "hidden (layer 1)", "output (layer 2)"])
    ax.set_yticks([])
    ax.set_xlabel("layer")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title("2-2-1 worked example: forward values (green), error terms dC/dz (red)")
    fig.tight_layout()
    return fig


draw_221(ex, c, d_ex)
plt.show()

# %% [markdown]
# **Check yourself.** Keep the same forward pass but train the output with binary cross-entropy
# instead of squared error. What is the output error term $\partial C/\partial z^{[2]}$ now, and
# why is it larger?
#
# <details><summary>Answer</summary>
#
# With a sigmoid output and cross-entropy the error term is $\hat y - t = 0.690283 - 0.5 =
# 0.190283$ (section 2). Squared error multiplies the same difference by
# $\sigma'(z) = y(1 - y) = 0.2138$, giving $0.040681$. The cross-entropy term is larger by the
# factor $1/(y(1-y)) \approx 4.7$, and unlike the squared-error term it does not shrink when the
# sigmoid saturates at a wrong answer.
#
# </details>
#
# ## 8. Counting parameters
#
# Layer $l$ has $N_l$ biases and $N_{l-1} N_l$ weights, so a network $n/N_1/\dots/N_L$ has
#
# $$N_b = N_1 + \dots + N_L, \qquad N_w = n N_1 + N_1 N_2 + \dots + N_{L-1} N_L .$$
#
# For 28×28 digit images with 100 hidden nodes and 10 classes that is
# $100 + 10 + 784 \cdot 100 + 100 \cdot 10 = 79{,}510$. A layer of 1000 units on top of 1000
# units has $10^6$ weights on its own, so a few such layers reach tens of millions — every one of
# which needs its partial derivative at every step, which is why the efficiency of backprop
# matters.


# %%
def by_formula(widths):
    n_b = sum(widths[1:])
    n_w = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return n_b, n_w


print(f"{'network':28s} {'N_b':>7s} {'N_w':>12s} {'total':>12s} {'count_parameters':>17s}")
for widths in ([2, 2, 1], [2, 3, 1], [784, 100, 10], [1000, 1000], [1000] * 11):
    n_b, n_w = by_formula(widths)
    label = "-".join(map(str, widths)) if len(widths) < 6 else "1000 x 11 (10 weight layers)"
    total = count_parameters(widths)
    assert total == n_b + n_w
    print(f"{label:28s} {n_b:7,d} {n_w:12,d} {n_b + n_w:12,d} {total:17,d}")

# %% [markdown]
# **Exercise `count_parameters`.** How many parameters (weights and biases) does a 3-5-4-2 network
# have?

# %%
sizes = [3, 5, 4, 2]  # n0, n1, n2, n3
answer = None  # your code here: number of parameters
check("count_parameters", answer)

# %% [markdown]
# ## 9. Why the weights must not start at zero
#
# Look at the backward equations with every $W^{[l]} = 0$. Then
# $\boldsymbol\delta^{[l-1]} = f'(\mathbf z^{[l-1]}) \odot (W^{[l]T}\boldsymbol\delta^{[l]}) = 0$
# for every layer below the top, so **all gradients below the top layer vanish** on the first
# step. Worse, every hidden unit computes the same function of the input (all $z = b = 0$), so
# the top layer's gradient $\boldsymbol\delta^{[L]} \mathbf a^{[L-1]T}$ gives every hidden unit the
# same outgoing weight; from then on each hidden unit receives the same error term and the same
# update. The units stay **identical forever**: a layer of 8 hidden units trains like a layer of 1.
# Random initial weights break this symmetry. The first gradients with all-zero weights:

# %%
Xm, ym = moons(m=200, noise=0.1, seed=0)
Xm, ym = Xm[:, :150], ym[:150]  # 150 points, slightly unbalanced classes
Ym = ym.reshape(1, -1).astype(float)

zero_net = MLP([2, 8, 1], hidden="sigmoid", output="sigmoid", loss="bce", init="zeros")
g = zero_net.gradients(Xm, Ym)
print("first gradients, init='zeros', sigmoid hidden units:")
print(f"  max |dJ/dW1| = {np.abs(g['W1']).max():.1e},  max |dJ/db1| = {np.abs(g['b1']).max():.1e}")
print(f"  dJ/dW2 = {mat(g['W2'], 5)}  (all 8 entries equal)")
tanh_zero = MLP([2, 8, 1], hidden="tanh", output="sigmoid", loss="bce", init="zeros")
gt = tanh_zero.gradients(Xm, Ym)
print("tanh hidden units instead (tanh(0) = 0, so A1 = 0 and even dJ/dW2 vanishes):")
print("  " + ",  ".join(f"max |dJ/d{k}| = {np.abs(v).max():.1e}" for k, v in gt.items()))

# %% [markdown]
# Now train two 2-8-1 networks the same way (plain gradient descent, 400 epochs of mini-batches of
# 15), one from zeros and one from random (Xavier) weights:

# %%
runs = {}
for init in ("zeros", "xavier"):
    model = MLP([2, 8, 1], hidden="sigmoid", output="sigmoid", loss="bce", init=init, seed=0)
    hist = train(model, Xm, Ym, epochs=400, batch_size=15, optimizer="sgd", lr=1.0, seed=0)
    W1 = model.params["W1"]
    spread = np.abs(W1 - W1[0]).max()  # largest difference between a row and the first row
    print(f"init={init:6s}: {hist.summary()};  max difference between rows of W1 = {spread:.4f}")
    runs[init] = model
print("rows of W1 after training from zeros (first 3 of 8):")
print(mat(runs["zeros"].params["W1"][:3], 4))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.3))
for ax, (init, model) in zip(axes, runs.items()):
    acc = model.accuracy(Xm, ym)
    plot_decision_boundary(
        model.predict, Xm, ym, ax=ax, title=f"2-8-1 from init='{init}': accuracy {acc:.1%}"
    )
fig.suptitle("Zero initialisation: 8 identical hidden units draw one straight line")
fig.tight_layout()
plt.show()

# %% [markdown]
# From zeros, all 8 rows of $W^{[1]}$ are still exactly equal after 400 epochs, and the network can
# draw only the straight boundary of a single hidden unit. From random weights it uses its 8 units
# and separates the moons.
#
# **Check yourself.** In the zero-initialised sigmoid network, $\partial J/\partial \mathbf b^{[1]}$
# is zero at the first step. Is it still zero at the second step? What can you say about its
# entries?
#
# <details><summary>Answer</summary>
#
# After the first step $W^{[2]}$ is no longer zero (its gradient was not), so
# $\boldsymbol\delta^{[1]} = f'(Z^{[1]}) \odot (W^{[2]T}\boldsymbol\delta^{[2]})$ is non-zero and
# the hidden biases start to move. But all entries of $W^{[2]}$ are equal and all hidden units have
# the same $Z^{[1]}$, so every row of $\boldsymbol\delta^{[1]}$ is the same: the 8 entries of
# $\partial J/\partial \mathbf b^{[1]}$ are equal, and so are the rows of
# $\partial J / \partial W^{[1]}$. The symmetry is never broken.
#
# </details>
#
# ## 10. What one unit can and cannot do: logic gates
#
# The first artificial neuron (McCulloch and Pitts, 1943) applies a step function
# $u(z) = 1$ if $z > 0$ else $0$ to a weighted sum of binary inputs. Many Boolean functions are
# such a threshold of a linear function:
#
# $$x_1 \lor x_2 = u(x_1 + x_2 - 0.5), \qquad x_1 \land x_2 = u(x_1 + x_2 - 1.5).$$


# %%
def u(z):
    """The unit step: 1 where z > 0, else 0."""
    return (np.asarray(z) > 0).astype(float)


Xg, y_or = logic_gate("or")
_, y_and = logic_gate("and")
out_or = u(Xg[0] + Xg[1] - 0.5)
out_and = u(Xg[0] + Xg[1] - 1.5)
print(" x1  x2 | u(x1+x2-0.5)  OR | u(x1+x2-1.5)  AND")
for k in range(4):
    print(
        f"{Xg[0, k]:3.0f} {Xg[1, k]:3.0f} | {out_or[k]:12.0f} {y_or[0, k]:3.0f} | "
        f"{out_and[k]:12.0f} {y_and[0, k]:4.0f}"
    )
assert np.array_equal(out_or, y_or[0]) and np.array_equal(out_and, y_and[0])

# %% [markdown]
# ### A linear classifier cannot learn XOR
#
# XOR is 1 exactly when the inputs differ. A single unit $u(w_1 x_1 + w_2 x_2 + b)$ would need
# $b \le 0$ (for $(0,0)$), $w_1 + b > 0$ and $w_2 + b > 0$ (for $(1,0)$ and $(0,1)$) and
# $w_1 + w_2 + b \le 0$ (for $(1,1)$). Adding the middle two gives $w_1 + w_2 + 2b > 0$, so
# $w_1 + w_2 + b > -b \ge 0$, which contradicts the last one. Geometrically: no straight line has
# $(0,1)$ and $(1,0)$ on one side and $(0,0)$, $(1,1)$ on the other. The OR and AND lines each get
# three of the four points right, and three is the best any line can do.

# %%
Xx, Yx = xor()
yx = Yx[0].astype(int)
print(f"accuracy on XOR of the OR unit : {np.mean(u(Xx[0] + Xx[1] - 0.5) == yx):.0%}")
print(f"accuracy on XOR of the AND unit: {np.mean(u(Xx[0] + Xx[1] - 1.5) == yx):.0%}")

fig, ax = plt.subplots(figsize=(5.2, 5))
for cls, marker, colour in ((0, "o", "#1f77b4"), (1, "s", "#ff7f0e")):
    pts = Xx[:, yx == cls]
    ax.scatter(
        pts[0],
        pts[1],
        s=140,
        marker=marker,
        color=colour,
        edgecolors="black",
        label=f"XOR = {cls}",
        zorder=3,
    )
s = np.linspace(-0.3, 1.3, 2)
ax.plot(s, 0.5 - s, "--", color="0.3", label="OR line  x1 + x2 = 0.5")
ax.plot(s, 1.5 - s, ":", color="0.3", lw=2, label="AND line x1 + x2 = 1.5")
ax.set_xlim(-0.3, 1.3)
ax.set_ylim(-0.3, 1.55)
ax.set_xlabel("x1")
ax.set_ylabel("x2")
ax.set_title("XOR: no single line separates the classes")
ax.legend(loc="upper right", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Training cannot find what does not exist. A single sigmoid unit (a 2-1 network, i.e. logistic
# regression) trained on XOR with cross-entropy ends where symmetry puts it: weights and bias at
# zero, every output $0.5$, cost $\ln 2$ — it cannot decide.

# %%
unit = MLP([2, 1], output="sigmoid", loss="bce", seed=0)
hist = train(unit, Xx, Yx, epochs=500, batch_size=4, optimizer="adam", lr=0.05, seed=0)
print("outputs on (0,0), (0,1), (1,0), (1,1):", mat(unit.forward(Xx).ravel(), 3))
print(f"cost {hist.train_loss[-1]:.6f}   ln 2 = {np.log(2):.6f}")
print(
    "largest |weight or bias|  < 1e-6:",
    bool(max(np.abs(v).max() for v in unit.params.values()) < 1e-6),
)

# %% [markdown]
# ## 11. XOR with one hidden layer: by hand
#
# Two hidden threshold units change the picture. Let
#
# $$h_1 = u(0.5 - x_1 - x_2), \qquad h_2 = u(x_1 + x_2 - 1.5), \qquad
#   \hat y = u(0.5 - h_1 - h_2).$$
#
# $h_1$ says "both inputs are 0" (a NOR), $h_2$ says "both are 1" (an AND), and the output is
# 1 when neither is true. In matrix form it is a 2-2-1 network with step activations:

# %%
W1x, b1x = np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([[0.5], [-1.5]])
W2x, b2x = np.array([[-1.0, -1.0]]), np.array([[0.5]])
H = u(W1x @ Xx + b1x)  # hidden layer, shape (2, 4)
y_hand = u(W2x @ H + b2x)  # output, shape (1, 4)
print(" x1  x2 | h1  h2 | y  XOR")
for k in range(4):
    print(
        f"{Xx[0, k]:3.0f} {Xx[1, k]:3.0f} | {H[0, k]:2.0f} {H[1, k]:3.0f} | "
        f"{y_hand[0, k]:1.0f} {Yx[0, k]:4.0f}"
    )
assert np.array_equal(y_hand, Yx)

# %% [markdown]
# **Feature learning.** The hidden layer re-describes each input by new features $(h_1, h_2)$.
# In that space the four points land on only three places — $(1, 0)$, $(0, 0)$ (twice) and
# $(0, 1)$ — and the classes *are* separated by a line, $h_1 + h_2 = 0.5$, which is exactly
# what the output unit draws. The hidden layers pre-process the input so that the output layer's
# job becomes easy.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
spaces = (
    (axes[0], Xx, "input space (x1, x2)", "x1", "x2"),
    (axes[1], H, "hidden space (h1, h2)", "h1", "h2"),
)
for ax, P, title, xl, yl in spaces:
    for cls, marker, colour in ((0, "o", "#1f77b4"), (1, "s", "#ff7f0e")):
        pts = P[:, yx == cls]
        ax.scatter(
            pts[0],
            pts[1],
            s=150,
            marker=marker,
            color=colour,
            edgecolors="black",
            label=f"XOR = {cls}",
            zorder=3,
        )
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.3, 1.3)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title)
for k in range(4):  # name the inputs in both spaces
    axes[0].annotate(
        f"({Xx[0, k]:.0f},{Xx[1, k]:.0f})",
        Xx[:, k],
        xytext=(8, 8),
        textcoords="offset points",
        fontsize=10,
    )
axes[1].annotate(
    "(0,1) and (1,0)", H[:, 1], xytext=(10, -18), textcoords="offset points", fontsize=10
)
axes[1].annotate("(0,0)", H[:, 0], xytext=(-10, 12), textcoords="offset points", fontsize=10)
axes[1].annotate("(1,1)", H[:, 3], xytext=(8, -4), textcoords="offset points", fontsize=10)
axes[1].plot(s, 0.5 - s, "--", color="0.3", label="output unit: h1 + h2 = 0.5")
axes[0].legend(loc="upper center", fontsize=10)
axes[1].legend(loc="upper right", fontsize=10)
fig.suptitle("The hidden layer maps XOR to a linearly separable problem")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 12. XOR, learned
#
# Step functions have zero derivative, so gradient descent could never have found those weights.
# With smooth units it can: a 2-3-1 network with tanh hidden units, a sigmoid output and
# cross-entropy, trained by `course.train.train` with Adam on the four points (one batch of 4 per
# epoch).

# %%
xor_net = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce", seed=0)
xor_hist = train(xor_net, Xx, Yx, epochs=300, batch_size=4, optimizer="adam", lr=0.05, seed=0)
first_perfect = 1 + int(np.argmax(np.array(xor_hist.train_acc) == 1.0))
print(xor_hist.summary())
print("outputs on (0,0), (0,1), (1,0), (1,1):", mat(xor_net.forward(Xx).ravel(), 4))
print(f"accuracy {xor_net.accuracy(Xx, yx):.0%}, first reached at epoch {first_perfect}")
print(f"parameters: {xor_net.num_parameters()}")

# %%
fig = plt.figure(figsize=(6, 5))
plot_decision_boundary(
    xor_net.predict, Xx, yx, ax=fig.add_subplot(), title="Trained 2-3-1 tanh network on XOR"
)
fig.tight_layout()
plt.show()

# %% [markdown]
# The learned boundary is curved: class 0 gets a diagonal band through $(0,0)$ and $(1,1)$,
# class 1 the two corners outside it. The network found its own hidden features: nobody told the
# three tanh units what to compute.
#
# **Check yourself.** How many parameters does the hand-built XOR network have, and how many does
# the trained 2-3-1 network have? Which formula gives them?
#
# <details><summary>Answer</summary>
#
# The hand-built network is 2-2-1: $N_b = 2 + 1 = 3$ biases and $N_w = 2\cdot 2 + 2\cdot 1 = 6$
# weights, 9 in all. The trained one is 2-3-1: $N_b = 3 + 1 = 4$ and
# $N_w = 2 \cdot 3 + 3 \cdot 1 = 9$, 13 in all (the table of section 8 and `num_parameters()`
# print both).
#
# </details>
#
# ## 13. Gradient checking the whole network
#
# A backward pass is trusted when it matches centred finite differences
# $\big(J(\theta + h) - J(\theta - h)\big) / 2h$ for every single parameter.
# `course.gradcheck.check_gradients` does that and reports one relative error
# $\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert)$ per array. Below: a network with three
# weight layers (3-4-4-2), softmax output, weight decay $\lambda = 0.01$, for every hidden
# activation of the package.

# %%
rng = np.random.default_rng(5)
Xc = rng.normal(size=(3, 5))
yc = rng.integers(0, 2, size=5)
Tc = np.eye(2)[:, yc]
print(f"{'hidden':11s}" + "".join(f"{k:>10s}" for k in ("W1", "b1", "W2", "b2", "W3", "b3")))


def gradient_check(net, grads):
    """Relative error per parameter between grads and finite differences of net.loss."""
    return check_gradients(lambda: net.loss(Xc, Tc), net.params, grads)


for hidden in HIDDEN_ACTIVATIONS:
    chk = MLP([3, 4, 4, 2], hidden, output="softmax", loss="cross_entropy", l2=0.01, seed=4)
    reports = gradient_check(chk, chk.gradients(Xc, Tc))
    print(f"{hidden:11s}" + "".join(f"{r.rel_error:10.1e}" for r in reports.values()))
    assert all(r.ok(1e-7) for r in reports.values())

# %% [markdown]
# Relative errors from about $10^{-12}$ to $2 \cdot 10^{-10}$ (the sigmoid rows are the
# largest), as close as float64 finite differences with $h = 10^{-5}$ can resolve. A bug looks
# very different. Here is a copy of the hand-written backward pass with two classic mistakes
# that can be switched on: forgetting the $1/m$ of the mean, and storing the transpose of a
# weight gradient. $W^{[2]}$ of this network is $4\times 4$, so its transposed gradient even
# has the right shape and no shape check would catch it.


# %%
def backward_with_bug(params, cache, T, hidden, l2, bug):
    """backward_by_hand for softmax + cross-entropy, with one deliberate bug."""
    f_prime = ACTIVATIONS[hidden].prime
    L, m = len(params) // 2, T.shape[1]
    delta = cache[f"A{L}"] - T
    if bug != "no 1/m":
        delta = delta / m  # the bug "no 1/m" skips this line
    grads = {}
    for l in range(L, 0, -1):
        dW = delta @ cache[f"A{l - 1}"].T + 2.0 * l2 * params[f"W{l}"]
        grads[f"W{l}"] = dW.T if (bug == "transpose W2" and l == 2) else dW
        grads[f"b{l}"] = delta.sum(axis=1, keepdims=True)
        if l > 1:
            delta = (params[f"W{l}"].T @ delta) * f_prime(cache[f"Z{l - 1}"], cache[f"A{l - 1}"])
    return {k: grads[k] for k in params}


chk = MLP([3, 4, 4, 2], hidden="tanh", output="softmax", loss="cross_entropy", l2=0.01, seed=4)
cache_c = forward_by_hand(chk.params, Xc, "tanh", "softmax")
print(f"{'bug':13s}" + "".join(f"{k:>10s}" for k in chk.params))
for bug in (None, "no 1/m", "transpose W2"):
    gb = backward_with_bug(chk.params, cache_c, Tc, "tanh", 0.01, bug)
    reports = gradient_check(chk, gb)
    print(f"{str(bug):13s}" + "".join(f"{r.rel_error:10.1e}" for r in reports.values()))

# %% [markdown]
# Without the bug the copy passes like the package. Dropping $1/m$ makes every gradient too large
# by the factor $m = 5$ (except the decay term): the relative error jumps to about $0.67$. The
# transposed gradient is wrong only in $W^{[2]}$, and the check points at exactly that array —
# which is why a gradient check reports each parameter separately.
#
# **Check yourself.** Why is the relative error of the bias gradients exactly $0.667$ for the
# "no 1/m" bug, while the weight gradients show slightly different values?
#
# <details><summary>Answer</summary>
#
# The buggy bias gradient is exactly $m$ times the true one, $a = 5n$, so
# $\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert) = 4\lVert n\rVert / 6\lVert n\rVert =
# 2/3$, whatever $n$ is. The weight gradients also contain the decay term $2\lambda W$, which the
# bug does not scale, so they are not an exact multiple of the true gradient and the ratio moves
# a little away from $2/3$.
#
# </details>
#
# ## Summary
#
# - A layer is $Z^{[l]} = W^{[l]}A^{[l-1]} + \mathbf b^{[l]}$, $A^{[l]} = f(Z^{[l]})$, with the
#   weights of a node as a row of $W^{[l]}$ ($N_l \times N_{l-1}$) and one sample per column.
# - Identity + half squared error, sigmoid + binary cross-entropy and softmax + cross-entropy all
#   start backprop with $\boldsymbol\delta^{[L]} = \hat{\mathbf y} - \mathbf t$; sigmoid + squared
#   error keeps an extra $\hat y(1-\hat y)$.
# - Backward: $\boldsymbol\delta^{[l-1]} = f'(Z^{[l-1]}) \odot (W^{[l]T}\boldsymbol\delta^{[l]})$,
#   $\partial J/\partial W^{[l]} = \boldsymbol\delta^{[l]}A^{[l-1]T} + 2\lambda W^{[l]}$,
#   $\partial J/\partial \mathbf b^{[l]}$ = row sums of $\boldsymbol\delta^{[l]}$; a gradient has
#   its variable's shape; weight decay touches weights only.
# - Error terms defined as sensitivities ($-\partial\mathcal L/\partial net$) have the opposite
#   sign; the gradients and the update are the same.
# - The 2-2-1 example: $y = 0.690283$, $\delta^{[2]} = 0.040681$ (sensitivity $-0.0407$), and the
#   slides' gradients differ from the exact ones in the third figure only because they round the
#   intermediate values.
# - $N_b = \sum N_l$, $N_w = \sum N_{l-1}N_l$ (79,510 for 784-100-10); zero weights keep every
#   hidden unit identical; a hidden layer makes XOR linearly separable, by hand or by training;
#   finite differences catch any bug in the backward pass.
#
# Next: [07 · Mini-batch training](07_minibatch_training.ipynb) — batch generators, optimizers,
# schedules and regularisation on real data.
