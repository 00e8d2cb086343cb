# %% [markdown]
# # 08 · Depth, initialisation and where backprop came from
#
# The first seven notebooks built backprop and trained networks with it. This one steps back
# and asks four questions the lectures raise on the way: where the units and the algorithm come
# from, what one hidden layer can represent, why backprop sweeps *backwards* rather than
# forwards, and what goes wrong in a deep network when its weights start too large or a step is
# too long — which is why the initialisations of `course.mlp` scale the weights as they do.
#
# Read it after notebook 07; it prepares for problem set 5 (ps5, a network of any depth) and
# problem set 6 (ps6, your own autograd engine). The exercises in the text check your answer
# when you run their cell; after trying, `solution("name")` prints a worked answer.
#
# **What you will be able to do**
#
# - write OR and AND as McCulloch–Pitts threshold units, and say how the lectures count the
#   layers of a network ($N_0/N_1/\dots/N_L$, the inputs are layer 0);
# - place backprop in its history: Werbos 1974, Rumelhart, Hinton and Williams 1986, Wan 1993,
#   GPUs around 2010;
# - show with the course's MLP that one hidden layer fits a 1-D function better as it gets wider,
#   and say what the universal approximation property does not promise;
# - compute a derivative with dual numbers (forward mode), and count why a gradient of
#   $f:\mathbb R^n \to \mathbb R$ takes $n$ forward sweeps but one reverse sweep;
# - measure exploding gradients layer by layer, and the dead ReLU units that one step with too
#   large a learning rate leaves behind;
# - derive the variances of Xavier and He initialisation and watch them keep the signal alive
#   through 30 layers where $N(0, 1)$ weights do not.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course import layers
from course.data import moons
from course.exercises import check, solution
from course.graph import Value, edges, topological_order
from course.mlp import MLP, count_parameters, init_params, init_std
from course.optim import SGD
from course.train import train

plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11})

# %% [markdown]
# ## 1. Where the units come from: McCulloch–Pitts and the reflex arc
#
# In 1943 McCulloch and Pitts proposed that a biological neuron applies a non-linear activation,
# a step function $u$, to a weighted sum of the currents that other neurons send it. They showed
# that networks of such units compute many logical and mathematical functions. With binary
# inputs $x_1, x_2 \in \{0, 1\}$,
#
# $$x_1 \vee x_2 = u(x_1 + x_2 - 0.5), \qquad x_1 \wedge x_2 = u(x_1 + x_2 - 1.5),$$
#
# with $u(v) = 1$ for $v > 0$ and $0$ otherwise. The code checks both on the four inputs.

# %%
def step(v):
    """The McCulloch-Pitts activation: 1 where v > 0, else 0."""
    return (np.asarray(v) > 0).astype(int)


x1 = np.array([0, 0, 1, 1])
x2 = np.array([0, 1, 0, 1])
print("x1          ", x1)
print("x2          ", x2)
unit_or, unit_and = step(x1 + x2 - 0.5), step(x1 + x2 - 1.5)
print("u(x1+x2-0.5)", unit_or, " = x1 OR x2 :", np.array_equal(unit_or, x1 | x2))
print("u(x1+x2-1.5)", unit_and, " = x1 AND x2:", np.array_equal(unit_and, x1 & x2))

# %% [markdown]
# Not every binary function is a single threshold of a weighted sum: no line separates the ones
# of XOR from its zeros, so one unit cannot compute it (notebook 06 builds XOR from a hidden
# layer). Biology works with several units in sequence too. One of the simplest neuronal
# circuits, the **reflex arc**, may hold just two neurons: a *sensor neuron* detects a stimulus
# and sends a voltage spike to the spinal column, where the current it causes makes a *motor
# neuron* spike, and that spike activates the muscle. As threshold units, it is a two-layer chain:

# %%
stimulus = np.array([0.0, 0.2, 0.6, 1.0])  # strength of the touch
sensor = step(2.0 * stimulus - 1.0)  # the sensor neuron spikes above half strength
motor = step(1.0 * sensor - 0.5)  # one spike arriving is enough for the motor neuron
for s, a, m in zip(stimulus, sensor, motor):
    muscle = "moves" if m else "rests"
    print(f"stimulus {s:.1f} -> sensor spike {a} -> motor spike {m} -> muscle {muscle}")

# %% [markdown]
# A step has derivative 0 wherever it is defined, so gradient descent cannot train such units.
# The units of this course replace $u$ by a smooth or piecewise-linear $f$ (notebook 04), and
# then the chain rule applies.
#
# ## 2. The perceptron, and how layers are counted
#
# The lectures count as layers the sets of adjustable parameters, one $W^{[l]}$ and one
# $\mathbf b^{[l]}$ each. The **perceptron** (inputs wired straight to outputs) is then a
# single-layer network, and a network with one hidden layer is a two-layer network. The inputs
# are layer 0 and hold no parameters; the output layer is layer $L$. A network is written by
# its widths,
#
# $$N_0/N_1/\dots/N_L:\qquad N_0 = \text{number of inputs},\quad N_1 = \text{nodes of the
# first hidden layer},\ \dots,\quad N_L = \text{nodes of the output layer},$$
#
# and it has $N_b = N_1 + \dots + N_L$ biases and
# $N_w = N_0N_1 + N_1N_2 + \dots + N_{L-1}N_L$ weights. Naming the number of hidden layers
# ($L - 1$) is the clearest way to describe a network. The table lists the networks of the course
# (and the lectures' MNIST network); `count_parameters` and the parameters an `MLP` actually holds
# agree with the two formulas.

# %%
networks = {
    "logistic regression (05)": [2, 1],
    "2-2-1 worked example (06)": [2, 2, 1],
    "XOR, learned (06)": [2, 3, 1],
    "a layer as a function (04)": [2, 2, 2, 2],
    "moons and spirals (07)": [2, 16, 16, 3],
    "handwritten digits (07)": [64, 32, 10],
    "MNIST, 100 hidden (lectures)": [784, 100, 10],
}
header = ("network", "N0/N1/.../NL", "L", "hidden", "N_w", "N_b", "total")
print("{:30s} {:>14s} {:>2s} {:>6s} {:>6s} {:>4s} {:>6s}".format(*header))
for name, sizes in networks.items():
    n_w = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_b = sum(sizes[1:])
    net = MLP(sizes, hidden="relu", output="identity", loss="half_sse")
    held = sum(p.size for p in net.params.values())
    assert n_w + n_b == count_parameters(sizes) == held
    widths = "/".join(map(str, sizes))
    L = len(sizes) - 1
    print(f"{name:30s} {widths:>14s} {L:>2d} {L - 1:>6d} {n_w:>6,d} {n_b:>4d} {held:>6,d}")

# %% [markdown]
# The first row is a perceptron ($L = 1$, no hidden layer), and the lectures' MNIST network
# has $100 + 10 + 784 \cdot 100 + 100 \cdot 10 = 79{,}510$ parameters.
#
# **Check yourself.** A network is described as "a 3-layer network with 2 hidden layers of 50
# units, 20 inputs and 4 outputs". Write it as $N_0/N_1/\dots/N_L$. What is $L$, and how many
# biases does it have?
#
# <details><summary>Answer</summary>
#
# $20/50/50/4$. The layers are counted by their parameter sets, so $L = 3$ (two hidden layers and
# the output layer; the 20 inputs are layer 0). The biases are $N_1 + N_2 + N_3 = 50 + 50 + 4 =
# 104$.
#
# </details>
#
# ## 3. A short history of backprop
#
# Backpropagation grows naturally out of gradient descent applied to the perceptron, and it was,
# in the lectures' words, apparently "discovered" several times. The milestones they give:
#
# | year | who | what |
# | --- | --- | --- |
# | 1943 | McCulloch and Pitts | threshold units as a model of biological neurons (section 1) |
# | 1974 | Paul Werbos | backpropagation applied to neural networks, in his Ph.D. thesis |
# | 1986 | Rumelhart, Hinton and Williams | "Learning representations by back-propagating errors", *Nature* 323, 533–536: the work that made backprop popular |
# | 1993 | Wan | the first win of an international pattern recognition contest with backpropagation |
# | 2010 | — | GPUs, cheap array processors, lead to dramatically better neural network performance |
#
# The last line is why the lectures stress matrix form: a forward and a backward sweep of a
# layered network are a few large matrix products per layer (notebooks 05 and 06), which is
# exactly what a GPU does fast.
#
# ## 4. One hidden layer is universal, given enough units
#
# A layer of hidden units between the inputs and the output gives a network *universal*
# properties: with enough hidden units, one hidden layer of a non-linear activation such as tanh
# approximates any continuous function on a closed interval as closely as we like. The
# experiment fits
#
# $$t(x) = \sin(2\pi x) + 0.5\cos(5x), \qquad x \in [-1, 1],$$
#
# with a $1/k/1$ network (tanh hidden units, identity output, half squared error), trained by
# Adam on 201 points for 5000 full-batch steps, for $k = 1, 3, 10, 30$.
#
# This is also the lectures' **three steps** of deep learning, in order: (1) choose a set of
# functions — here the $1/k/1$ networks, one function per value of the parameters $\theta$;
# (2) say how good a function is — the total loss $L(\theta)$ over the training data;
# (3) pick the best one — the $\theta^*$ that gradient descent finds by minimising $L$.

# %%
x = np.linspace(-1, 1, 201).reshape(1, -1)  # one input, 201 samples as columns
t = np.sin(2 * np.pi * x) + 0.5 * np.cos(5 * x)
widths = [1, 3, 10, 30]
fits, rms = {}, {}
for k in widths:
    net = MLP([1, k, 1], hidden="tanh", output="identity", loss="half_sse", seed=0)
    train(net, x, t, epochs=5000, batch_size=x.shape[1], optimizer="adam", lr=0.01, seed=0)
    fits[k] = net.forward(x)
    rms[k] = float(np.sqrt(np.mean((fits[k] - t) ** 2)))
    n_params = count_parameters([1, k, 1])
    print(f"{k:2d} hidden units: {n_params:3d} parameters, RMS error {rms[k]:.4f}")

# %%
fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(9, 3.8), width_ratios=[1.6, 1])
ax.plot(x[0], t[0], color="black", lw=3, alpha=0.3, label="target t(x)")
for k, colour in zip(widths, ["tab:red", "tab:orange", "tab:green", "tab:blue"]):
    ax.plot(x[0], fits[k][0], color=colour, lw=1.5, label=f"{k} unit{'s' if k > 1 else ''}")
ax.set(xlabel="x", ylabel="network output", title="Fits of one hidden layer")
ax.legend(loc="lower left", fontsize=9)
ax_err.loglog(widths, [rms[k] for k in widths], "o-", color="tab:blue")
ax_err.set(xlabel="hidden units k", ylabel="RMS error", title="Error per width")
ax_err.set_xticks(widths, [str(k) for k in widths])
ax_err.grid(True, which="both", alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# One tanh unit can only make one S-shaped step, so it follows the curve's overall fall and
# nothing else (RMS error 0.60); three units already trace the wave (0.045), ten units bring the
# error to 0.012 and thirty to 0.006. Note what the property does **not** say: how many units a
# function needs (a wigglier target needs more), whether gradient descent finds the right
# weights, or how well the fit does between and beyond the training points. In practice
# networks are made deeper rather than only wider, and the rest of this notebook is about what
# depth asks of backprop: how the gradient is swept, and how its size survives many layers.
#
# ## 5. Forward mode versus reverse mode
#
# Backprop is *reverse-mode* differentiation: one forward sweep computes the values, and one
# backward sweep delivers $\partial f/\partial x_i$ for **every** input at once. There is also a
# *forward mode*, which carries a derivative along with each value during the forward sweep. Its
# simplest form is the **dual number** $a + a'\varepsilon$ with $\varepsilon^2 = 0$:
#
# $$(a + a'\varepsilon) + (b + b'\varepsilon) = (a + b) + (a' + b')\varepsilon, \qquad
#   (a + a'\varepsilon)(b + b'\varepsilon) = ab + (a'b + ab')\varepsilon,$$
#
# $$g(a + a'\varepsilon) = g(a) + g'(a)\,a'\,\varepsilon \quad\text{(the chain rule)}.$$
#
# Feed in $x + 1\varepsilon$ and the dual part of the result is $f'(x)$. The class below is the
# whole of forward mode; it counts its operations.

# %%
class Dual:
    """A dual number value + dot * eps with eps**2 = 0: forward-mode differentiation."""

    ops = 0  # operations done by every Dual so far

    def __init__(self, value, dot=0.0):
        self.value, self.dot = float(value), float(dot)

    @staticmethod
    def lift(other):
        return other if isinstance(other, Dual) else Dual(other)

    def __add__(self, other):
        other = Dual.lift(other)
        Dual.ops += 1
        return Dual(self.value + other.value, self.dot + other.dot)

    def __mul__(self, other):
        other = Dual.lift(other)
        Dual.ops += 1
        return Dual(self.value * other.value, self.dot * other.value + self.value * other.dot)

    __radd__, __rmul__ = __add__, __mul__

    def tanh(self):
        Dual.ops += 1
        th = np.tanh(self.value)
        return Dual(th, (1 - th**2) * self.dot)

    def exp(self):
        Dual.ops += 1
        e = np.exp(self.value)
        return Dual(e, e * self.dot)


# %% [markdown]
# Take $f(x) = \exp(x_1) + \sum_{i=1}^{n-1} \tanh(x_i x_{i+1})$, a function
# $\mathbb R^n \to \mathbb R$ written once for both engines (a `Value` of `course.graph` has the
# same operations). Forward mode gives one partial derivative per sweep: seed
# $x_i + 1\varepsilon$ and every other input with $0\varepsilon$. So the gradient takes $n$
# sweeps. Reverse mode builds the graph once and sweeps back once.

# %%
def f(xs):
    return xs[0].exp() + sum((a * b).tanh() for a, b in zip(xs[:-1], xs[1:]))


def forward_mode_gradient(point):
    """The gradient of f at point, one forward sweep with dual numbers per input."""
    grad = []
    for i in range(len(point)):
        xs = [Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)]
        grad.append(f(xs).dot)
    return np.array(grad)


def reverse_mode_gradient(point):
    """The gradient of f at point: one forward sweep building the graph, one backward sweep."""
    xs = [Value(v) for v in point]
    out = f(xs)
    out.backward()
    return np.array([v.grad for v in xs]), out


point = np.random.default_rng(8).normal(size=5)
g_forward = forward_mode_gradient(point)
g_reverse, _ = reverse_mode_gradient(point)
print("forward mode (5 sweeps):", np.round(g_forward, 6))
print("reverse mode (1 sweep): ", np.round(g_reverse, 6))
print("largest difference:", np.max(np.abs(g_forward - g_reverse)))

# %% [markdown]
# The two engines agree to the last bit or two. Now count the work as $n$ grows. One
# evaluation of $f$ has $3n - 1$ operations: $n - 1$ products, $n - 1$ tanh, one exp and $n$
# additions (`sum` starts from 0). Forward mode repeats the whole evaluation $n$ times, so
# $n(3n - 1)$ operations. Reverse mode does one evaluation, building the graph, then visits each
# edge of the graph once (one multiply-add per edge, Algorithm 4): about $8n$ in all.

# %%
sizes_n = [2, 4, 8, 16, 32, 64, 128]
forward_ops, reverse_ops = [], []
for n in sizes_n:
    p = np.linspace(-1, 1, n)
    Dual.ops = 0
    forward_mode_gradient(p)
    forward_ops.append(Dual.ops)
    _, out = reverse_mode_gradient(p)
    nodes = sum(1 for node in topological_order(out) if node.parents)  # operations of the sweep
    reverse_ops.append(nodes + sum(1 for _ in edges(out)))  # + one visit per edge backwards
    ratio = forward_ops[-1] / reverse_ops[-1]
    print(f"n = {n:3d}: forward mode {forward_ops[-1]:6d} operations ({n:3d} sweeps), "
          f"reverse mode {reverse_ops[-1]:4d}, ratio {ratio:4.1f}")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.loglog(sizes_n, forward_ops, "o-", color="tab:orange", label="forward mode: n sweeps")
ax.loglog(sizes_n, reverse_ops, "s-", color="tab:blue", label="reverse mode: 1 sweep back")
ax.set(xlabel="number of inputs n", ylabel="operations for the gradient",
       title="The gradient of f: R^n -> R")
ax.set_xticks(sizes_n, [str(n) for n in sizes_n])
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Forward mode grows like $n^2$ (a line of slope 2 on the log-log plot), reverse mode like $n$
# (slope 1). At $n = 2$ forward mode is even a little cheaper; at $n = 128$ it does 48 times the
# work. A network's cost has millions of inputs (its
# parameters) and one output, which is why training uses reverse mode. The trade goes the
# other way for $f: \mathbb R \to \mathbb R^m$ (one input, many outputs): there one forward
# sweep gives every $\partial f_j/\partial x$, and reverse mode would need $m$ backward sweeps.
#
# **Exercise.** The cell gives $x$. Push $x + 1\varepsilon$ through $f(x) = e^x \tanh x$ by the
# rules above, by hand in numpy (not with `Dual`): what is the dual part of the result?

# %%
x = 0.6  # f(x) = exp(x) * tanh(x), one forward sweep with the seed dx = 1
answer = None  # your code here: the dual part of f(x + 1ε)
check("dual_number", answer)

# %% [markdown]
# ## 6. Exploding gradients
#
# Backprop multiplies the error term by $W^{[l]T}$ and by $f'(Z^{[l-1]})$ at every layer
# (Algorithm 2). Notebook 04 showed the sigmoid's small slopes make gradients vanish on the way
# back. The other side: if the weights are large, each layer *multiplies* the error term by more
# than one, and the gradients of the first layers **explode**. ReLU's slope is 0 or 1, so with
# ReLU the size of the weights alone decides.
#
# The helper below runs a stack of layers (no biases) with `course.layers`: forward from a batch
# $A^{[0]}$, then backward from an upstream gradient $\partial J/\partial A^{[L]}$, and returns
# every activation $A^{[l]}$ and every error term $\partial J/\partial Z^{[l]}$. Section 8
# uses it again.

# %%
def sweep(weights, activation, A, dA):
    """Forward through the layers W[1..L] (no biases), then backward from dA = dJ/dA[L].

    Returns the lists [A[1], ..., A[L]] and [dJ/dZ[1], ..., dJ/dZ[L]], each (n_l, m)."""
    forward_step = {"tanh": layers.tanh_forward, "relu": layers.relu_forward}[activation]
    backward_step = {"tanh": layers.tanh_backward, "relu": layers.relu_backward}[activation]
    activations, caches = [], []
    for W in weights:
        Z, affine = layers.affine_forward(A, W, np.zeros((W.shape[0], 1)))
        A, act_cache = forward_step(Z)
        activations.append(A)
        caches.append((affine, act_cache))
    error_terms = []
    for affine, act_cache in reversed(caches):
        dZ = backward_step(dA, act_cache)
        error_terms.append(dZ)
        dA, _, _ = layers.affine_backward(dZ, affine)
    return activations, error_terms[::-1]


# %% [markdown]
# The experiment takes a 20-layer ReLU network, 50 units wide, once with He's scale (section 8)
# and once with every weight twice as large, sends the same batch of 200 inputs forward and the
# same upstream gradient back, and prints the norm of the error term
# $\lVert\partial J/\partial Z^{[l]}\rVert$ of each layer $l$ (the gradient of a layer's weights is
# its error term times the layer's input, $\partial J/\partial W^{[l]} = \delta^{[l]}A^{[l-1]T}$).

# %%
depth, width = 20, 50
rng = np.random.default_rng(0)
X_deep, dA_top = rng.normal(size=(width, 200)), rng.normal(size=(width, 200))
he = init_params([width] * (depth + 1), "he", seed=1)
error_norms = {}
for scale in (1.0, 2.0):
    weights = [scale * he[f"W{l}"] for l in range(1, depth + 1)]
    _, error_terms = sweep(weights, "relu", X_deep, dA_top)
    error_norms[scale] = np.array([np.linalg.norm(dZ) for dZ in error_terms])
for scale, norms in error_norms.items():
    print(f"weights x {scale}: |dJ/dZ| at layer 20 = {norms[-1]:.3g}, at layer 1 = {norms[0]:.3g}")
growth = (error_norms[2.0][0] / error_norms[2.0][-1]) ** (1 / (depth - 1))
print(f"weights x 2: the error term grows by a factor {growth:.2f} per layer on the way back")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
layer_ids = np.arange(1, depth + 1)
ax.semilogy(layer_ids, error_norms[1.0], "o-", color="tab:blue", label="He's scale, std sqrt(2/n)")
ax.semilogy(layer_ids, error_norms[2.0], "s-", color="tab:red", label="twice He's scale")
ax.set(xlabel="layer l (backprop runs from right to left)", ylabel="|dJ/dZ[l]|",
       title="Error terms of a 20-layer ReLU network")
ax.set_xticks(layer_ids[::2])
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# With He's scale the error terms keep their size through all 20 layers. With weights twice as
# large, every layer on the way back doubles the error term, and at layer 1 it is about
# $2^{19} \approx 5 \cdot 10^5$ times larger than at layer 20. A learning rate that suits the
# last layers then throws the first layers' weights far away (and the forward sweep grows the
# activations by the same factor 2 per layer).
#
# ## 7. Dead ReLUs after a step that is too large
#
# A ReLU unit whose pre-activation $z$ is at most 0 for **every** example outputs 0 and has slope
# 0 for every example, so its weights and bias get a gradient of exactly 0. It is *dead*. A
# unit of the first hidden layer that dies stays dead for good: its inputs are the data, which
# do not change, and its weights no longer move. (A dead unit of a later layer can come back
# when the layers below it change its inputs.) One gradient step that is too long can push many
# weights and biases so far that a share of a layer dies at once.
#
# The experiment takes one full-batch SGD step from the same 2/50/50/2 ReLU network on 500
# samples of the moons data, with learning rates from 0.1 to 100, and counts the units of each
# hidden layer that are off for all 500 samples; then it trains 200 epochs at a sensible rate
# (0.05) and counts again.

# %%
X_moons, y_moons = moons(500, noise=0.2, seed=0)


def dead_fractions(net, X):
    """Per hidden layer: the fraction of its units that are off (z <= 0) for every column of X."""
    net.forward(X)
    return [float(np.mean(np.all(net.cache[f"Z{l}"] <= 0, axis=1))) for l in net.layers[:-1]]


print(f"{'':9s} {'layer 1 dead':^23s}   {'layer 2 dead':^23s}")
columns = f"{'start':>7s} {'step':>6s} {'trained':>8s}"
print(f"{'lr':>9s} {columns}   {columns}   accuracy")
for lr in (0.1, 1.0, 10.0, 30.0, 100.0):
    net = MLP([2, 50, 50, 2], hidden="relu", output="softmax", loss="cross_entropy", seed=0)
    before = dead_fractions(net, X_moons)
    net.step(X_moons, y_moons, SGD(lr=lr))  # one full-batch step
    after = dead_fractions(net, X_moons)
    train(net, X_moons, y_moons, epochs=200, batch_size=50, optimizer="sgd", lr=0.05, seed=0)
    trained = dead_fractions(net, X_moons)
    per_layer = [f"{before[l]:7.0%} {after[l]:6.0%} {trained[l]:8.0%}" for l in (0, 1)]
    print(f"{lr:9g} {per_layer[0]}   {per_layer[1]}   {net.accuracy(X_moons, y_moons):8.1%}")

# %% [markdown]
# Before the step no unit of layer 1 is dead (14 % of layer 2 already are, at the start). Steps
# with learning rates up to 1 leave layer 1 alone; one step at 10 kills 6 % of its units, at 100
# a quarter of them, and training at a good rate afterwards does not bring one back — more die
# on the way. On moons the survivors still fit the data (the accuracy stays near 96 %), but the
# dead units are parameters paid for and never used. The remedies are those of notebooks 04 and
# 07: a smaller learning rate or a schedule that starts small, an adaptive optimizer, or a
# leaky ReLU, whose slope $\alpha > 0$ for $z < 0$ keeps a gradient flowing.
#
# **Exercise.** The cell gives the pre-activations $Z^{[1]}$ of a ReLU layer for a batch. What
# fraction of the layer's units is dead on this batch?

# %%
Z1 = np.array([
    [0.5, -1.0, 2.0, 0.3, -0.2],
    [-3.0, -0.1, -2.0, -0.4, -1.0],
    [0.0, 0.2, -0.5, 1.0, 0.0],
    [-0.7, -2.0, -0.3, -1.5, -0.9],
])  # layer 1 of a ReLU network: 4 units, m = 5 examples
answer = None  # your code here: the fraction of dead units
check("dead_relus", answer)

# %% [markdown]
# ## 8. Why Xavier and He initialisation scale as they do
#
# Take one unit of layer $l$, $z = \sum_{k=1}^{n_{\text{in}}} w_k a_k$, with the weights
# drawn independently with mean 0 and variance $\operatorname{Var}(w)$, independent of the
# inputs $a_k$. Then
#
# $$\operatorname{Var}(z) = n_{\text{in}}\,\operatorname{Var}(w)\,\mathbb E[a^2].$$
#
# - **tanh** is close to the identity near 0, so
#   $\mathbb E[a^2] \approx \operatorname{Var}(z^{[l-1]})$, and the variance stays the same from
#   layer to layer when $n_{\text{in}}\operatorname{Var}(w) = 1$.
#   The backward sweep gives the same condition with $n_{\text{out}}$ in place of $n_{\text{in}}$;
#   **Xavier** (Glorot) initialisation takes the compromise
#   $\operatorname{Var}(w) = 2/(n_{\text{in}} + n_{\text{out}})$.
# - **ReLU** sets the negative half of a symmetric $z$ to 0, so
#   $\mathbb E[a^2] = \tfrac12\operatorname{Var}(z^{[l-1]})$: each layer halves the variance unless
#   $\operatorname{Var}(w) = 2/n_{\text{in}}$, which is **He** initialisation.
# - **$N(0, 1)$ weights** have $n_{\text{in}}\operatorname{Var}(w) = n_{\text{in}}$: with 100
#   inputs, the variance of a ReLU network grows 50-fold per layer, and tanh units saturate at
#   once.
#
# The experiment pushes 500 samples of $N(0, 1)$ inputs through 30 layers of 100 units with
# `sweep` from section 6, sends an upstream gradient of $N(0, 1)$ entries back from the top, and
# records the variance of the activations $A^{[l]}$ and of the error terms
# $\partial J/\partial Z^{[l]}$ at each layer. The first $d$ layers of the 30-layer network are a
# $d$-layer network, so one run answers every depth from 2 to 30.

# %%
def variances_per_layer(activation, init, depth=30, width=100, m=500, seed=0):
    """Var(A[l]) and Var(dJ/dZ[l]) for l = 1..depth, weights drawn by init."""
    rng = np.random.default_rng(seed)
    if init == "N(0, 1)":
        weights = [rng.normal(size=(width, width)) for _ in range(depth)]
    else:
        params = init_params([width] * (depth + 1), init, hidden=activation, seed=seed)
        weights = [params[f"W{l}"] for l in range(1, depth + 1)]
    X, dA = rng.normal(size=(width, m)), rng.normal(size=(width, m))
    activations, error_terms = sweep(weights, activation, X, dA)
    return np.array([A.var() for A in activations]), np.array([dZ.var() for dZ in error_terms])


settings = [
    ("tanh", "N(0, 1)", "tab:orange", "--"),
    ("tanh", "xavier", "tab:orange", "-"),
    ("relu", "N(0, 1)", "tab:red", "--"),
    ("relu", "xavier", "tab:purple", ":"),
    ("relu", "he", "tab:blue", "-"),
]
results = {(a, i): variances_per_layer(a, i) for a, i, _, _ in settings}
print(f"{'':13s} {'Var(A[l]) at l = 1, 10, 30':>32s}   {'Var(dJ/dZ[l]) at l = 1, 10, 30':>32s}")
for (a, i), (var_a, var_dz) in results.items():
    fwd = " ".join(f"{v:10.3g}" for v in var_a[[0, 9, 29]])
    bwd = " ".join(f"{v:10.3g}" for v in var_dz[[0, 9, 29]])
    print(f"{a + ', ' + i:13s} {fwd:>32s}   {bwd:>32s}")

# %%
fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(9, 4.4), sharex=True, sharey=True)
depths = np.arange(1, 31)
for a, i, colour, style in settings:
    var_a, var_dz = results[(a, i)]
    ax_f.semilogy(depths, var_a, color=colour, ls=style, lw=2, label=f"{a}, {i}")
    ax_b.semilogy(depths, var_dz, color=colour, ls=style, lw=2)
ax_f.set(xlabel="layer l", ylabel="variance", title="Forward: Var(A[l])", ylim=(1e-12, 1e12))
ax_b.set(xlabel="layer l", title="Backward: Var(dJ/dZ[l])")
for axis in (ax_f, ax_b):
    axis.grid(True, which="both", alpha=0.3)
fig.legend(loc="lower center", ncol=5, fontsize=9, frameon=False)
fig.tight_layout(rect=(0, 0.07, 1, 1))
plt.show()

# %% [markdown]
# The figure (cut at $10^{\pm 12}$; a line that leaves it goes on) reads like the derivation:
#
# - **ReLU with He** keeps both variances within a small factor of 1 through 30 layers.
# - **ReLU with Xavier** (here $\operatorname{Var}(w) = 1/100$, half of He's) loses a factor 2
#   per layer both ways, about $2^{-29}$ over the network.
# - **ReLU with $N(0, 1)$** gains about 50 per layer both ways: $10^{50}$ after 30 layers.
# - **tanh with Xavier** keeps the signal alive: it shrinks slowly, because tanh bends below the
#   identity, but by a factor of tens over 30 layers, not of $10^{9}$.
# - **tanh with $N(0, 1)$** saturates from the first layer on: the activations have variance near
#   1, all of them close to $\pm 1$. The backward sweep multiplies by $W^T$ (variance 100 per
#   layer) and by the small slopes $1 - a^2$, and the product still grows: the error terms
#   explode towards the first layers, while the slopes of the saturated units are tiny. Such a
#   network neither passes information forward nor trains stably.
#
# **Check yourself.** A layer has 400 inputs and 100 outputs. What standard deviation does Xavier
# give its weights, and what does He give? Why does He not look at $n_{\text{out}}$?
#
# <details><summary>Answer</summary>
#
# Xavier: $\sqrt{2/(400 + 100)} = \sqrt{0.004} \approx 0.0632$. He: $\sqrt{2/400} \approx
# 0.0707$. He's rule keeps the *forward* variance, which depends on how many inputs each unit
# sums, $n_{\text{in}}$; in a network of equal widths the backward condition is the same, and
# the factor 2 compensates for the half of the inputs that ReLU zeroes. `init_std(400, 100,
# "xavier")` and `init_std(400, 100, "he")` give these numbers.
#
# </details>

# %%
print("Xavier:", round(init_std(400, 100, "xavier"), 4), " He:", round(init_std(400, 100, "he"), 4))

# %% [markdown]
# **Exercise.** The cell gives the widths of a ReLU network. What standard deviations does He
# initialisation give $W^{[1]}$, $W^{[2]}$ and $W^{[3]}$ (an array of three numbers)?

# %%
sizes = [784, 256, 64, 10]  # a ReLU network: He initialisation
answer = None  # your code here: the standard deviations of W1, W2, W3
check("he_std", answer)

# %% [markdown]
# ## 9. Rows or columns: a ReLU layer on a minibatch
#
# The course writes a mini-batch with one sample per **column**, $Z = WX + \mathbf b$ with $X$ of
# shape $(n_0, m)$. PyTorch, and most code you will read, puts one sample per **row**: a design
# matrix $X_r$ of shape $(m, n_0)$ and $Z_r = X_r W_r + \mathbf b_r$, with $W_r$ of shape
# $(n_0, n_1)$. The two are the same computation transposed: $X_r = X^T$, $W_r = W^T$,
# $Z_r = Z^T$. So are the gradients: $\partial J/\partial W_r = X_r^T\,\delta_r$ is the transpose
# of the course's $\delta X^T$, and the bias gradient sums over rows instead of columns. The code
# runs one ReLU layer both ways, with the row version written out in numpy and the column version
# by `course.layers`.

# %%
rng = np.random.default_rng(9)
X_cols = rng.normal(size=(3, 4))  # column convention: 3 features, m = 4 samples
W, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
dA_cols = rng.normal(size=(2, 4))  # an upstream gradient for the layer's output

Z, affine = layers.affine_forward(X_cols, W, b)  # course: Z = W X + b
A, relu_cache = layers.relu_forward(Z)
dX, dW, db = layers.affine_backward(layers.relu_backward(dA_cols, relu_cache), affine)

X_rows, W_rows, b_rows, dA_rows = X_cols.T, W.T, b.T, dA_cols.T  # row convention
Z_rows = X_rows @ W_rows + b_rows  # (4, 3) @ (3, 2) + (1, 2): b broadcasts down the rows
dZ_rows = dA_rows * (Z_rows > 0)
dW_rows = X_rows.T @ dZ_rows  # (3, 4) @ (4, 2)
db_rows = dZ_rows.sum(axis=0, keepdims=True)  # down the rows: one entry per unit
dX_rows = dZ_rows @ W_rows.T
print("shapes, rows: X", X_rows.shape, "W", W_rows.shape, "Z", Z_rows.shape, "dW", dW_rows.shape)
print("shapes, cols: X", X_cols.shape, "W", W.shape, "Z", Z.shape, "dW", dW.shape)
pairs = [(Z_rows, Z), (dW_rows, dW), (db_rows, db), (dX_rows, dX)]
print("same layer, transposed:", all(np.allclose(r, c.T) for r, c in pairs))

# %% [markdown]
# **Check yourself.** In the row convention a student writes the bias gradient as
# `dZ_rows.sum(axis=1)`. What shape does it have, and what went wrong?
#
# <details><summary>Answer</summary>
#
# Shape $(m,) = (4,)$: one number per *sample*, the sum over each sample's units. In the row
# convention the samples are rows, so the bias, shared by all samples, sums over `axis=0` (down
# the rows) and has one entry per unit, shape $(1, n_1)$. The course's column convention sums
# over `axis=1` for the same reason; copying the axis from one convention to the other is the
# usual slip.
#
# </details>
#
# ## Summary
#
# - McCulloch and Pitts (1943) modelled a neuron as a step of a weighted sum: OR is
#   $u(x_1 + x_2 - 0.5)$, AND is $u(x_1 + x_2 - 1.5)$; a reflex arc chains a sensor and a motor
#   neuron. A step has no useful derivative, so trained networks use smooth or piecewise-linear
#   activations.
# - Layers are counted by their parameter sets: a perceptron is a one-layer network, inputs are
#   layer 0, the output layer is $L$, and a network is written $N_0/N_1/\dots/N_L$ with
#   $\sum_l N_{l-1}N_l$ weights and $\sum_l N_l$ biases (79,510 for 784/100/10).
# - Backprop: Werbos's 1974 thesis, made popular by Rumelhart, Hinton and Williams in 1986; Wan won
#   an international pattern recognition contest with it in 1993; GPUs from around 2010.
# - One hidden layer is universal: the fit of $\sin(2\pi x) + 0.5\cos(5x)$ improves from 1 to 30
#   tanh units, but the property says nothing about how many units or whether training finds them.
# - Forward mode (dual numbers) needs $n$ sweeps for the gradient of $f:\mathbb R^n\to\mathbb R$,
#   reverse mode one: $n^2$ against $n$ operations in the count above.
# - Weights too large make gradients explode by a constant factor per layer; one step with too
#   large a learning rate leaves ReLU units dead for good.
# - $\operatorname{Var}(z) = n_{\text{in}}\operatorname{Var}(w)\,\mathbb E[a^2]$ gives Xavier
#   ($2/(n_{\text{in}} + n_{\text{out}})$, tanh) and He ($2/n_{\text{in}}$, ReLU); with them the
#   signal crosses 30 layers, with $N(0, 1)$ weights it does not.
# - The row convention $XW + b$ is the course's $WX + b$ transposed, gradients included.
