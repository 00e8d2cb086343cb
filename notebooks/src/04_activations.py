# %% [markdown]
# # 04 · Activation functions, saturation and vanishing gradients
#
# A hidden layer computes $Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}$ and then applies an
# element-wise non-linearity, $A^{[l]} = f(Z^{[l]})$. This notebook looks at the usual
# choices of $f$, derives their derivatives $f'$ (which backprop needs at every layer), and
# shows what $f'$ does to the gradients of a deep network.
#
# Prepares for problem set 2 (ps2, activations), and problem set 7 (ps7, debugging backprop) with
# notebooks 05, 06 and 07. The exercises in the text check your answer when you run their cell;
# after trying, `solution("name")` prints a worked answer.
#
# **What you will be able to do**
#
# - view a layer, and a whole network, as a function that maps an input vector to an output
#   vector, and compute the slides' example by hand;
# - write down sigmoid, tanh, ReLU, leaky ReLU, ELU, softplus, swish and maxout, derive each
#   derivative (in particular $\sigma' = \sigma(1-\sigma)$), and check it with centred
#   finite differences;
# - explain saturation, and why a factor $f'(Z^{[l-1]})$ at every step of the backward pass
#   makes the gradients of the first layers vanish when $f$ is the sigmoid;
# - measure the gradient norm per layer of a deep network and compare sigmoid, tanh and ReLU;
# - evaluate the sigmoid for any input without overflow.

# %%
%matplotlib inline
import warnings

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from course import activations as act
from course import vanishing as van
from course.exercises import check, solution
from course.gradcheck import numerical_gradient
from course.graph import Value
from course.mlp import MLP
from course.widgets import interactive_figure

plt.rcParams.update({"figure.dpi": 90, "font.size": 11})

# %% [markdown]
# ## 1. A layer is a function: a vector in, a vector out
#
# Once its weights are fixed, a layer is just a function from $\mathbb{R}^{n_{l-1}}$ to
# $\mathbb{R}^{n_l}$: $\;\mathbf{a} \mapsto \sigma(W\mathbf{a} + \mathbf{b})$. Take a layer
# with two inputs and two sigmoid units,
#
# $$W^{[1]} = \begin{bmatrix} 1 & -2 \\ -1 & 1 \end{bmatrix}, \qquad
# b^{[1]} = \begin{bmatrix} 1 \\ 0 \end{bmatrix}, \qquad
# \mathbf{x} = \begin{bmatrix} 1 \\ -1 \end{bmatrix}:$$
#
# the pre-activation is $W^{[1]}\mathbf{x} + b^{[1]} = [1 + 2 + 1,\; -1 - 1 + 0]^T = [4, -2]^T$
# and the layer outputs $[\sigma(4), \sigma(-2)]^T \approx [0.98, 0.12]^T$.

# %%
W1 = np.array([[1.0, -2.0], [-1.0, 1.0]])
b1 = np.array([[1.0], [0.0]])
x = np.array([[1.0], [-1.0]])  # one sample: a column
z1 = W1 @ x + b1
a1 = act.sigmoid(z1)
print("Z1 =", z1.ravel())
print("A1 =", np.round(a1.ravel(), 4), " (slides: [0.98, 0.12])")

# %% [markdown]
# Stacking layers composes such functions. The slides' network has two inputs and three
# sigmoid layers of two units each,
# $\;\mathbf{y} = \sigma(W^{[3]}\,\sigma(W^{[2]}\,\sigma(W^{[1]}\mathbf{x} + b^{[1]}) + b^{[2]})
# + b^{[3]})$, and maps
#
# $$f\left(\begin{bmatrix}1\\-1\end{bmatrix}\right) = \begin{bmatrix}0.62\\0.83\end{bmatrix},
# \qquad f\left(\begin{bmatrix}0\\0\end{bmatrix}\right) = \begin{bmatrix}0.51\\0.85\end{bmatrix}.$$
#
# The weights below (with the first layer from above) reproduce these numbers. We load them
# into a `course.mlp.MLP` and feed both inputs at once, as the two columns of a batch
# $X$ of shape $(2, 2)$.

# %%
net = MLP([2, 2, 2, 2], hidden="sigmoid", output="sigmoid", loss="half_sse")
net.params.update(
    W1=W1,
    b1=b1,
    W2=np.array([[2.0, -1.0], [-2.0, -1.0]]),
    b2=np.array([[0.0], [0.0]]),
    W3=np.array([[3.0, -1.0], [-1.0, 4.0]]),
    b3=np.array([[-2.0], [2.0]]),
)
X = np.array([[1.0, 0.0], [-1.0, 0.0]])  # columns: [1, -1] and [0, 0]
Yhat = net.forward(X)
for l in (1, 2, 3):
    print(f"A{l} =", np.array2string(net.cache[f"A{l}"], precision=4).replace("\n", ""))
print("f([1, -1]) =", np.round(Yhat[:, 0], 4), " (slides: [0.62, 0.83])")
print("f([0, 0])  =", np.round(Yhat[:, 1], 4), " (slides: [0.51, 0.85])")
assert np.allclose(np.round(Yhat, 2), [[0.62, 0.51], [0.83, 0.85]])

# %% [markdown]
# Every column of `A1`, `A2`, `A3` is the output vector of one layer for one input. Which
# function the network computes depends only on its weights; *which kind* of functions it
# can compute, and how well gradients flow through it, depends on $f$. The rest of this
# notebook is about $f$.
#
# ## 2. The sigmoid and its derivative
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \text{range } (0, 1).$$
#
# Differentiate $(1 + e^{-x})^{-1}$ with the chain rule, then split the fraction into two
# factors and add and subtract 1 in the numerator of the first:
#
# $$\begin{aligned}
# \sigma'(x) &= \frac{e^{-x}}{(1 + e^{-x})^2}
#   = \left(\frac{e^{-x}}{1 + e^{-x}}\right)\left(\frac{1}{1 + e^{-x}}\right)
#   = \left(\frac{1 + e^{-x} - 1}{1 + e^{-x}}\right)\left(\frac{1}{1 + e^{-x}}\right) \\
#   &= \left(1 - \frac{1}{1 + e^{-x}}\right)\frac{1}{1 + e^{-x}}
#   = \sigma(x)\,\bigl(1 - \sigma(x)\bigr).
# \end{aligned}$$
#
# The code checks each line of the derivation at a few points, and compares with the
# package's `sigmoid_prime`.

# %%
xs = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
e = np.exp(-xs)
s = act.sigmoid(xs)
line1 = e / (1 + e) ** 2
line2 = ((1 + e - 1) / (1 + e)) * (1 / (1 + e))
line3 = s * (1 - s)
print("x                 ", xs)
print("e^-x/(1+e^-x)^2   ", np.round(line1, 6))
print("split fraction    ", np.round(line2, 6))
print("sigma (1 - sigma) ", np.round(line3, 6))
print("act.sigmoid_prime ", np.round(act.sigmoid_prime(xs), 6))
assert np.allclose(line1, line2) and np.allclose(line2, line3)
assert np.allclose(line3, act.sigmoid_prime(xs))

# %% [markdown]
# **Implementation note.** $\sigma'$ needs only the forward output $a = \sigma(z)$, which the
# forward pass has already stored; backprop never recomputes an exponential. That is why
# `sigmoid_prime(z, a)` accepts `a`. With the slides' sigmoid output $0.82$:
# $0.82 \times (1 - 0.82) = 0.1476 \approx 0.15$.

# %%
print(f"sigmoid'(z) from a = 0.82: {act.sigmoid_prime(None, a=0.82):.4f}  (slides: 0.15)")

# %% [markdown]
# ## 3. tanh
#
# $$\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = \frac{2}{1 + e^{-2x}} - 1
#   = 2\sigma(2x) - 1, \qquad \text{range } (-1, 1).$$
#
# The middle form follows by multiplying numerator and denominator by $e^{-x}$. It shows that
# tanh is a sigmoid stretched to $(-1, 1)$ and centred at 0. Its derivative, in terms of its
# own output, is
#
# $$\tanh'(x) = 1 - \tanh^2(x),$$
#
# since $\frac{d}{dx}\frac{2}{1+e^{-2x}} = 4\sigma'(2x) = 4\sigma(2x)(1 - \sigma(2x))$ and
# with $t = 2\sigma(2x) - 1$ this is $(1 + t)(1 - t) = 1 - t^2$. Like the sigmoid, tanh
# saturates: the slides' example has an output of $0.9993$, where the local gradient is only
# $1 - 0.9993^2 = 0.00139951 \approx 0.0014$.

# %%
xs = np.linspace(-3, 3, 7)
forms = {
    "(e^x - e^-x)/(e^x + e^-x)": (np.exp(xs) - np.exp(-xs)) / (np.exp(xs) + np.exp(-xs)),
    "2/(1 + e^-2x) - 1": 2 / (1 + np.exp(-2 * xs)) - 1,
    "2 sigma(2x) - 1": 2 * act.sigmoid(2 * xs) - 1,
}
for label, values in forms.items():
    print(f"{label:26s}", np.round(values, 6))
    assert np.allclose(values, act.tanh(xs))
t = act.tanh(xs)
assert np.allclose(1 - t**2, 4 * act.sigmoid_prime(2 * xs))
print(f"\n1 - 0.9993^2 = {act.tanh_prime(None, a=0.9993):.8f}  (slides: 0.0014)")
print(f"the input with tanh(z) = 0.9993 is z = {np.arctanh(0.9993):.4f}")

# %% [markdown]
# **Exercise `tanh_derivative`.** Evaluate $\tanh'$ at these five points. Replace `None` with your
# answer and run the cell: it says whether the answer is right, and if not, what the likely bug is.

# %%
z = np.array([-1.5, -0.2, 0.0, 0.7, 3.0])
answer = None  # your code here: tanh'(z)
check("tanh_derivative", answer)

# %% [markdown]
# ## 4. The ReLU family, softplus and swish
#
# | activation | $f(x)$ | $f'(x)$ |
# | --- | --- | --- |
# | ReLU | $\max(0, x)$ | $u(x)$: 1 for $x > 0$, 0 for $x < 0$ |
# | leaky ReLU | $\max(0.1x, x)$ | 1 for $x > 0$, $0.1$ for $x < 0$ |
# | ELU ($\alpha = 1$) | $x$ for $x > 0$, $\alpha(e^{x} - 1)$ otherwise | 1 for $x > 0$, $\alpha e^{x}$ otherwise |
# | softplus | $\ln(1 + e^{x})$ | $\dfrac{e^{x}}{1 + e^{x}} = \sigma(x)$ |
# | swish | $x\,\sigma(x)$ | $\sigma(x) + x\,\sigma(x)(1 - \sigma(x))$ |
#
# - ReLU's derivative is the unit step $u(x)$. At the kink $x = 0$ there is no derivative;
#   the course (like most libraries) uses $u(0) = 0$, and leaky ReLU uses its slope $0.1$.
# - Softplus is a smooth ReLU; its derivative is exactly the sigmoid (divide numerator and
#   denominator of $e^x / (1 + e^x)$ by $e^x$).
# - Swish is a product, so the product rule gives $\sigma(x) + x\,\sigma'(x)$.
#
# Unlike sigmoid and tanh, none of these flattens out for large positive inputs: there
# $f'(x) \to 1$. The figure draws every activation (solid) with its derivative (dashed); the
# grey bands mark where sigmoid and tanh are saturated, $|f'| < 0.05$. The eighth panel is a
# maxout unit (section 6).

# %%
fig = van.plot_all_activations()
fig

# %% [markdown]
# The saturation bands start where $|f'|$ falls below $0.05$:

# %%
for name in van.SATURATING:
    lo, hi = van.saturation_regions(name, (-6, 6))[-1]
    print(f"{name:8s} |f'(z)| < 0.05 for |z| > {lo:.3f}")

# %% [markdown]
# **Exercise `relu_backward`.** Backward through a ReLU layer: given $Z$ and the upstream $dA$,
# compute $dZ$.

# %%
Z = np.array([[1.5, -0.5], [-2.0, 0.3]])
dA = np.array([[0.2, -1.0], [0.4, 0.7]])  # A = relu(Z); dA = dJ/dA
answer = None  # your code here: dZ
check("relu_backward", answer)

# %% [markdown]
# ## 5. Checking every derivative with centred differences
#
# A derivative formula is trusted once it agrees with the numbers:
#
# $$f'(z) \approx \frac{f(z + h) - f(z - h)}{2h}, \qquad \text{error } O(h^2).$$
#
# For one point, by hand:

# %%
z0, h = 2.0, 1e-5
by_hand = (act.sigmoid(z0 + h) - act.sigmoid(z0 - h)) / (2 * h)
print(f"centred difference at z = 2: {by_hand:.10f}")
print(f"sigma(2) (1 - sigma(2))    : {act.sigmoid_prime(z0):.10f}")

# %% [markdown]
# Because the activations act element-wise, the gradient of $\sum_i f(z_i)$ with respect to
# the vector $\mathbf{z}$ is the vector of $f'(z_i)$. So `course.gradcheck.numerical_gradient`
# (centred differences, one entry at a time) checks $f'$ on a whole grid at once. The grid
# has an even number of points and so avoids the kink at exactly $z = 0$.

# %%
z = np.linspace(-5, 5, 400)
print(f"{'activation':11s}  max |f'(z) - centred difference|")
for name in van.HIDDEN:
    a = act.ACTIVATIONS[name]
    numeric = numerical_gradient(lambda a=a: float(np.sum(a.f(z))), z)
    err = np.max(np.abs(a.prime(z, a.f(z)) - numeric))
    print(f"{name:11s}  {err:.1e}")
    assert err < 1e-6, name

# %% [markdown]
# All errors are at the level of rounding. At the kink itself the centred difference of ReLU
# sees half a step on each side and returns $0.5$, which is neither convention; the library
# picks $0$:

# %%
h = 1e-5
print(f"centred difference of relu at 0: {(act.relu(h) - act.relu(-h)) / (2 * h):.3f}")
print(f"relu'(0) in the course:          {act.relu_prime(np.array(0.0)):.3f}")
print(f"leaky_relu'(0) in the course:    {act.leaky_relu_prime(np.array(0.0)):.3f}")

# %% [markdown]
# ## 6. Maxout
#
# A maxout unit does not apply a fixed non-linearity to one affine map; it takes the largest
# of $k$ affine maps of its input. With $k = 2$:
#
# $$f(\mathbf{x}) = \max\bigl(\mathbf{w}_1^T\mathbf{x} + b_1,\; \mathbf{w}_2^T\mathbf{x} + b_2\bigr),
# \qquad \nabla_{\mathbf{x}} f = \mathbf{w}_j \text{ for the winning piece } j.$$
#
# Like the max gate, maxout routes the whole gradient to the piece that won. In the package,
# `act.maxout` takes the pieces stacked in an array of shape $(k, n, m)$. For one unit
# ($n = 1$) and one input vector $\mathbf{x} \in \mathbb{R}^2$ ($m = 1$):

# %%
w_pieces = np.array([[1.0, -1.0], [0.5, 2.0]])  # row j is w_j^T
b_pieces = np.array([0.5, -1.0])
x2 = np.array([1.5, 0.5])


def maxout_unit() -> float:
    pieces = (w_pieces @ x2 + b_pieces).reshape(2, 1, 1)  # (k, n, m) = (2, 1, 1)
    return float(act.maxout(pieces)[0, 0])


values = w_pieces @ x2 + b_pieces
winner = int(np.argmax(values))
print("piece values:", values, "-> f(x) =", maxout_unit(), f"(piece {winner + 1} wins)")
numeric = numerical_gradient(maxout_unit, x2)
print("gradient = w of the winner:", w_pieces[winner], " centred differences:", np.round(numeric, 8))
assert np.allclose(numeric, w_pieces[winner])

# %% [markdown]
# In one dimension each piece is a line and their maximum is a convex, piecewise-linear
# function. With the pieces $x$ and $0$, maxout *is* ReLU; with $x$ and $0.1x$ it is leaky
# ReLU; with $x$ and $-0.5x$ it bends the other way:

# %%
fig = van.maxout_demo(w=(1.0, -0.5), b=(0.0, 0.0), title="max(x, -0.5 x): a two-piece maxout unit")
fig

# %% [markdown]
# More pieces make more kinks. Five tangents of the convex curve $x^2$ (at
# $x = -2, -1, 0, 1, 2$: the tangent at $c$ is $2c\,x - c^2$) give a maxout unit that follows
# $x^2$ from below; a maxout unit with enough pieces can approximate any convex function.

# %%
c = np.arange(-2.0, 3.0)


def square(x):
    return x**2


fig = van.maxout_demo(w=2 * c, b=-(c**2), title="Maxout of 5 tangents of $x^2$", reference=square)
fig

# %% [markdown]
# ## 7. Saturation
#
# For large $|z|$ the sigmoid is almost flat, so $\sigma'(z)$ is almost zero: the unit is
# **saturated**. The largest slope is at $z = 0$: with $s = \sigma(z)$,
# $\sigma' = s(1 - s)$ is a parabola in $s$ with its maximum $\tfrac14$ at $s = \tfrac12$, so
#
# $$0 < \sigma'(z) \le \tfrac14 \quad\text{for every } z .$$

# %%
print(f"{'z':>4s}  {'sigmoid(z)':>12s}  {'sigmoid_prime(z)':>16s}  {'tanh_prime(z)':>14s}")
for z0 in (0.0, 2.0, 5.0, 10.0):
    print(
        f"{z0:4.0f}  {act.sigmoid(z0):12.6f}  {act.sigmoid_prime(z0):16.4e}"
        f"  {act.tanh_prime(z0):14.4e}"
    )

# %% [markdown]
# From $0.25$ at $z = 0$ the sigmoid's slope drops to $0.105$ at $z = 2$, $0.0066$ at $z = 5$ and
# $4.5 \times 10^{-5}$ at $z = 10$. tanh's slope starts at 1 (four times larger) but falls even
# faster. ReLU does not saturate for $z > 0$: its slope stays exactly 1.
#
# ## 8. Why gradients vanish through depth
#
# The backward pass (Algorithm 2) computes the error terms from the top down:
#
# $$\delta^{[l-1]} = f'(Z^{[l-1]}) \odot \bigl(W^{[l]T} \delta^{[l]}\bigr), \qquad
# \frac{\partial J}{\partial W^{[l]}} = \delta^{[l]} A^{[l-1]T}.$$
#
# (As in notebook 06, $\delta^{[l]} = \partial J/\partial Z^{[l]}$ is the gradient of the mean
# cost $J$, so the $\frac1m$ of a batch is already inside it.) The lectures draw two
# observations from these equations:
#
# 1. **$f'$ is a multiplicative factor of $\delta$ at every step.** Going down $k$ layers
#    multiplies by $k$ such factors (and $k$ weight matrices). With the sigmoid each factor is
#    at most $\tfrac14$, and much less for saturated units, so the error terms of the first
#    layers, and their weight gradients, can become tiny: the **vanishing gradient** that
#    stalls the training of deep sigmoid nets. Remedy: ReLU and its relatives, with $f' = 1$
#    on the positive side.
# 2. **If $W = 0$, then $\delta = 0$ below.** $W^{[l]T}\delta^{[l]} = 0$, so every error term
#    and every gradient below layer $l$ is zero: never initialise the weights to zero.
#
# A chain of scalar units shows the first observation in its purest form. Ten sigmoid units
# in a row, each with weight 1: the derivative of the output with respect to the input is the
# product of the ten local slopes, and the scalar graph engine of notebook 02 agrees.

# %%
def chain(x0: float, unit: str, n: int = 10) -> tuple[float, float]:
    """d(out)/d(x) through n units of one kind, by the graph engine and as a product."""
    x = Value(x0, label="x")
    a, product = x, 1.0
    for _ in range(n):
        z = a * 1.0  # weight 1
        a = getattr(z, unit)()
        product *= a.local_grads[0]  # the unit's local slope f'(z)
    a.backward()
    return x.grad, product


for unit in ("sigmoid", "tanh", "relu"):
    engine, product = chain(0.5, unit)
    print(f"{unit:8s} d out / d x = {engine:.4e}   product of the 10 local slopes = {product:.4e}")
print(f"bound for sigmoid: (1/4)^10 = {0.25**10:.4e}")
print(f"ten sigmoid units all at z = 2: sigma'(2)^10 = {act.sigmoid_prime(2.0) ** 10:.4e}")

# %% [markdown]
# Each sigmoid unit multiplies the derivative by less than $\frac14$. tanh loses much less
# here (its outputs shrink towards 0, where its slope is close to 1), and ReLU on positive
# inputs passes the derivative through unchanged.
#
# Now a real network: `van.layer_gradient_norms` builds an MLP with 10 inputs, `depth` hidden
# layers of 32 units and one identity output with half squared error, draws a batch of
# 64 standard-normal inputs and targets (seed 0), and returns $\|\partial J / \partial
# W^{[l]}\|_F$ for $l = 1, \dots, \text{depth} + 1$. Weights start with the usual
# initialisation for each activation (Xavier for sigmoid and tanh, He for the ReLU family).
# First the second observation: with all weights zero, only the output layer gets a gradient.

# %%
norms_zero = van.layer_gradient_norms("sigmoid", depth=3, init="zeros")
print("sigmoid, W = 0:", "  ".join(f"|dJ/dW{l}| = {v:.3e}" for l, v in enumerate(norms_zero, 1)))

# %% [markdown]
# Then the first: ten hidden layers, the gradient norm of every layer for sigmoid, tanh and
# ReLU.

# %%
depth = 10
table = {name: van.layer_gradient_norms(name, depth) for name in ("sigmoid", "tanh", "relu")}
print("layer " + "".join(f"{name:>12s}" for name in table))
for l in range(depth + 1):
    print(f"{l + 1:5d} " + "".join(f"{norms[l]:12.3e}" for norms in table.values()))
for name, norms in table.items():
    print(f"{name:8s} |dJ/dW1| / |dJ/dW{depth + 1}| = {norms[0] / norms[-1]:.3e}")

# %% [markdown]
# With the sigmoid the gradient of the first layer is about $10^{-7}$ times that of the output
# layer: every layer down divides it by about 5 (the factor $\sigma' \le \frac14$, which
# Xavier weights do not make up for). Gradient descent would change the first
# layers by almost nothing. tanh ($f'(0) = 1$) and ReLU ($f' = 1$ on the active side) keep all
# layers within a factor of about 10 of each other. On a log scale:

# %%
fig = van.plot_gradient_norms(["sigmoid", "tanh", "relu"], depth=10)
fig

# %% [markdown]
# The factor lost per layer for the sigmoid, layer by layer from the top:

# %%
shrink = table["sigmoid"][1:] / table["sigmoid"][:-1]
print("|dJ/dW[l+1]| / |dJ/dW[l]|, l = 1..10:", " ".join(f"{r:.1f}" for r in shrink))
print(f"geometric mean: {np.exp(np.mean(np.log(shrink))):.2f}")

# %% [markdown]
# **Exercise `vanishing_chain`.** Three sigmoid units in a chain, each with weight $w = 1.5$:
# compute $da_3/da_0$ at $a_0 = 0.5$, the product of one factor per layer.

# %%
w, a0 = 1.5, 0.5  # a_k = sigmoid(w * a_(k-1)) for k = 1, 2, 3
answer = None  # your code here: da3/da0
check("vanishing_chain", answer)

# %% [markdown]
# ## 9. Try it: any activation, any depth
#
# Pick an activation and a depth. The left panel shows $f$ and $f'$; the right one the
# gradient norm per layer (with the sigmoid for comparison), and the text gives the ratio of
# the first layer's gradient norm to the last layer's. Watch the sigmoid's ratio fall by
# about a factor of 5 per extra layer, while ReLU, leaky ReLU, ELU and swish keep it within
# about a factor of 10 of 1 at every depth up to 20 (ReLU at depth 10: 0.126, the first view
# below; the sigmoid there: $6.5 \times 10^{-8}$).

# %%
widget = interactive_figure(
    van.activation_study,
    title="Gradient norm per layer",
    name=W.Dropdown(options=list(van.HIDDEN), value="relu", description="activation"),
    depth=W.IntSlider(value=10, min=1, max=20, description="depth"),
)
widget

# %% [markdown]
# The first view, as text (the widget computes it with `van.activation_study`):

# %%
texts = [van.activation_study(name, 10)[1] for name in ("relu", "sigmoid", "tanh")]
print("\n".join(texts))

# %% [markdown]
# ## 10. Numerical stability of the sigmoid
#
# Written literally, $1 / (1 + e^{-z})$ computes $e^{-z}$ first. For $z = -10^4$ that is
# $e^{10000}$, far beyond the largest float64 ($\approx 1.8 \times 10^{308}$, printed below): `np.exp`
# overflows to `inf`, and only then does $1 / (1 + \infty) = 0$ give the right answer. The
# package evaluates $e^{-|z|} \le 1$ instead and picks the formula by the sign of $z$
# ($\frac{1}{1 + e^{-z}}$ for $z \ge 0$, $\frac{e^{z}}{1 + e^{z}}$ for $z < 0$), so nothing
# ever overflows.

# %%
z = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])


def row(label, values):
    print(f"{label:18s}" + "".join(f"{v:12.3e}" for v in values))


with np.errstate(over="ignore"):
    exp_minus_z = np.exp(-z)
    naive = 1 / (1 + exp_minus_z)
with np.errstate(over="raise"):  # would raise FloatingPointError on any overflow
    stable = act.sigmoid(z)
row("z", z)
row("exp(-z)", exp_minus_z)
row("naive", naive)
row("act.sigmoid", stable)
print(f"largest float64: {np.finfo(np.float64).max:.3e}")
print(f"naive sigmoid(-1e4) = {naive[0]} was produced via exp(1e4) = {exp_minus_z[0]}")
assert np.isinf(exp_minus_z[0]) and np.allclose(naive, stable, rtol=1e-12, atol=0)

# %% [markdown]
# The same over a whole grid from $-10^4$ to $10^4$, counting the warnings numpy raises:

# %%
grid = np.linspace(-1e4, 1e4, 20001)
for label, fn in (("act.sigmoid", act.sigmoid), ("naive", lambda z: 1 / (1 + np.exp(-z)))):
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn"):
        warnings.simplefilter("always")
        fn(grid)
    print(f"{label:12s} warnings: {len(caught)}", *(f"({w.message})" for w in caught))

# %% [markdown]
# Here the naive formula happens to land on the right value, but an overflow on the way is a
# warning sign: in the derivative $e^{-z} / (1 + e^{-z})^2$ it gives $\infty / \infty =$ `nan`,
# and one `nan` spreads into every sum it enters. The package computes the derivative from $z$
# as $e^{-|z|} / (1 + e^{-|z|})^2$: the exponent is never positive, so nothing overflows.

# %%
with np.errstate(over="ignore", invalid="ignore"):
    naive_prime = np.exp(-z) / (1 + np.exp(-z)) ** 2
with np.errstate(over="raise", invalid="raise"):
    stable_prime = act.sigmoid_prime(z)
row("naive sigmoid'", naive_prime)
row("act.sigmoid_prime", stable_prime)
a50 = act.sigmoid(np.array([50.0]))
print(f"sigmoid(50) == 1.0 in float64: {a50[0] == 1.0}")
print(f"sigma(1 - sigma) from the rounded forward value: {act.sigmoid_prime(None, a=a50)[0]}")

# %% [markdown]
# The last line shows the price of the lectures' shortcut $\sigma(1 - \sigma)$, which backprop
# uses because $\sigma$ is already cached from the forward pass: at $z = 50$ it gives 0 where the
# exact slope is $1.9 \times 10^{-22}$, because $\sigma(50)$ rounds to exactly 1.0 in float64 and
# $1 - \sigma$ becomes 0. An absolute error below $10^{-16}$ in a slope that is practically zero
# anyway is harmless; a `nan` is not.
#
# ## Check yourself
#
# **1.** What is the largest possible value of $\tanh'$, and where? Use $\tanh(x) = 2\sigma(2x) - 1$.
#
# <details><summary>Answer</summary>
#
# $\tanh'(x) = 4\sigma'(2x)$, and $\sigma' \le \frac14$ with equality at 0, so
# $\tanh'(x) \le 1$ with equality at $x = 0$. tanh passes four times more gradient than the
# sigmoid near the origin, but it saturates just the same for large $|x|$.
#
# </details>
#
# **2.** A network has 3 layers with sigmoid hidden units, and $W^{[3]}$ (the output layer's
# weights) is all zeros while the other weights are random. Which of $\partial J / \partial
# W^{[3]}$, $\partial J / \partial b^{[3]}$, $\partial J / \partial W^{[2]}$,
# $\partial J / \partial W^{[1]}$ can be non-zero?
#
# <details><summary>Answer</summary>
#
# Only the output layer's: $\partial J / \partial W^{[3]} = \delta^{[3]} A^{[2]T}$ and
# $\partial J / \partial b^{[3]}$ (the row sums of $\delta^{[3]}$) are non-zero in general.
# But $\delta^{[2]} = f'(Z^{[2]}) \odot (W^{[3]T}\delta^{[3]}) = 0$, and then $\delta^{[1]} = 0$
# too, so the gradients of $W^{[2]}, b^{[2]}, W^{[1]}, b^{[1]}$ are all zero. After one step
# $W^{[3]}$ is no longer zero and the lower layers start to learn.
#
# </details>
#
# **3.** Ten sigmoid layers sit between the output and the first layer, and every unit has
# $z = 2$. Ignoring the weights, by which factor do the $f'$ terms shrink the error term?
#
# <details><summary>Answer</summary>
#
# $\sigma'(2) = 0.105$, so $0.105^{10} \approx 1.6 \times 10^{-10}$; even at the best point
# $z = 0$ it is $0.25^{10} \approx 9.5 \times 10^{-7}$. Weights larger than 1 could compensate,
# but they would push the $z$ values further out into saturation.
#
# </details>
#
# **4.** Which maxout unit $\max(w_1 x + b_1, w_2 x + b_2)$ is ReLU, and which is leaky ReLU?
# Can maxout represent the sigmoid exactly?
#
# <details><summary>Answer</summary>
#
# $w = (1, 0)$, $b = (0, 0)$ gives $\max(x, 0)$ = ReLU; $w = (1, 0.1)$, $b = (0, 0)$ gives
# $\max(x, 0.1x)$ = leaky ReLU. A maximum of affine functions is always convex and piecewise
# linear, so it cannot be the sigmoid (which is neither); with many pieces it can approximate
# any convex function.
#
# </details>
#
# **5.** Why does a centred difference of ReLU at exactly $z = 0$ give $0.5$, and why do the
# derivative checks above use a grid that avoids 0?
#
# <details><summary>Answer</summary>
#
# $\frac{\mathrm{relu}(h) - \mathrm{relu}(-h)}{2h} = \frac{h - 0}{2h} = \frac12$: the
# difference straddles the kink and averages the two one-sided slopes 0 and 1. ReLU has no
# derivative at 0, so any value there (the course's 0) is a convention, and a check at the
# kink compares the convention with an average: they need not agree. Away from the kink, at
# distance more than $h$, the two agree to rounding.
#
# </details>
#
# ## Summary
#
# - A layer maps a vector to a vector, $\mathbf{a} \mapsto f(W\mathbf{a} + \mathbf{b})$; the
#   slides' three-layer sigmoid network maps $[1, -1]$ to $[0.62, 0.83]$ and $[0, 0]$ to
#   $[0.51, 0.85]$.
# - $\sigma' = \sigma(1 - \sigma) \le \frac14$ and $\tanh' = 1 - \tanh^2 \le 1$: both need only
#   the forward output, and both vanish for large $|z|$ (saturation; $\sigma'(10) \approx
#   4.5 \times 10^{-5}$).
# - ReLU ($f' = u(z)$), leaky ReLU, ELU, softplus ($f' = \sigma$), swish and maxout (the
#   gradient goes to the winning piece) keep $f' \approx 1$ for large positive inputs.
# - Every derivative agrees with centred finite differences away from kinks.
# - $\delta^{[l-1]} = f'(Z^{[l-1]}) \odot (W^{[l]T}\delta^{[l]})$: $f'$ multiplies the error
#   at every layer, so with the sigmoid the first layer of a 10-layer net gets about
#   $10^{-7}$ of the last layer's gradient norm, while tanh and ReLU keep them comparable;
#   $W = 0$ makes every gradient below the output zero.
# - Compute the sigmoid from $e^{-|z|}$ to avoid overflow.
#
# **Next:** [05_vectorized_backprop.ipynb](05_vectorized_backprop.ipynb) writes backprop with
# vectors, matrices and Jacobians.
