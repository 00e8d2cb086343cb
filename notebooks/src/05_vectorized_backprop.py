# %% [markdown]
# # 05 · Vectorized backprop
#
# So far every node of a graph held one number. Networks are written with vectors and matrices:
# inputs and outputs become **vectors and matrices**, and partial derivatives become
# **Jacobians**. This notebook redoes backprop at that level: first on a small example where
# every number can be followed by hand, then on softmax, logistic regression and a network with
# one hidden layer, then on a mini-batch, and finally draws computational graphs whose nodes
# are themselves vectors and matrices. Each gradient is checked three ways where it applies:
# against centred finite differences, against the scalar engine `course.graph.Value`, and
# against the package's matrix backprop in `course.mlp.MLP` or its layers.
#
# Prepares for problem set 3 (ps3, matrix backprop) with notebook 06, problem set 5 (ps5, a
# network of any depth) with notebooks 06, 07 and 08, and problem set 7 (ps7, debugging backprop)
# with notebooks 04, 06 and 07. The exercises in the text check your answer when you run their
# cell; after trying, `solution("name")` prints a worked answer.
#
# ## What you will be able to do
#
# - differentiate $\|W\mathbf{x}\|^2$ with respect to $W$ and $\mathbf{x}$, index by index and in
#   matrix form, and check that every gradient has the shape of its variable;
# - explain why the 3-index tensor $\partial\mathbf{z}/\partial W$ never has to be built, and
#   why it collapses to an outer product;
# - derive the softmax Jacobian $\operatorname{diag}(\mathbf{o}) - \mathbf{o}\mathbf{o}^T$ and the
#   softmax cross-entropy gradient $\hat{\mathbf{y}} - \mathbf{t}$;
# - write the gradients of binary and multi-class logistic regression and of a ReLU + softmax
#   network, with the right sign, in row or column convention;
# - vectorise a gradient over a mini-batch: $dW = \frac1m\, dZ\, X^T$, $db = \frac1m\, dZ\,
#   \mathbf{1}$;
# - draw and sweep computational graphs whose nodes are vectors and matrices, with every value
#   and gradient labelled by its shape: logistic regression, a ReLU layer on a minibatch in rows
#   (and its column twin), a prediction with a weight-decay penalty where two paths meet.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course.activations import relu, sigmoid, softmax
from course.data import one_hot
from course.exercises import check, solution
from course.gradcheck import numerical_gradient, numerical_jacobian, relative_error
from course.graph import Value
from course.losses import OUTPUT_LOSSES, cross_entropy, cross_entropy_grad
from course.layers import affine_backward, affine_forward, relu_backward, relu_forward
from course.mlp import MLP
from course.tensorgraph import Tensor, backward, dot
from course.viz import draw_array_graph, draw_graph
from course.widgets import show as show_figure


def show(name, a):
    """Print an array with six decimals, whatever its shape."""
    a = np.round(np.asarray(a, dtype=float), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = np.array2string(a, formatter={"float_kind": "{:.6f}".format})
    print(f"{name} =\n{text}" if np.ndim(a) == 2 else f"{name} = {text}")


def agree(label, a, b, tol=1e-7):
    """Assert that a and b agree to a relative error below tol, and say so."""
    err = relative_error(a, b)
    assert err < tol, f"{label}: relative error {err:.2e} is not below {tol:.0e}"
    print(f"{label}: relative error < {tol:.0e}")


# %% [markdown]
# The helpers are those of notebook 01: `agree` asserts a relative error below a tolerance and
# prints the bound ($10^{-7}$ against finite differences, whose last digits are rounding noise;
# $10^{-12}$ between two exact computations); Jacobians by centred differences come from
# `course.gradcheck.numerical_jacobian`, which stacks one gradient per output.
#
# ## 1. A worked example: $f = \|W\mathbf{x}\|^2$
#
# $$\mathbf{x} = \begin{bmatrix} 0.1 \\ 0.2 \end{bmatrix}, \qquad
# W = \begin{bmatrix} 0.3 & 0.4 \\ 0.5 & 0.6 \end{bmatrix}, \qquad
# f(\mathbf{x}, W) = \|W\mathbf{x}\|^2 = \sum_i (W\mathbf{x})_i^2 .$$
#
# Give the intermediate vector a name, $\mathbf{m} = W\mathbf{x}$, so that $m_k = \sum_j W_{kj}
# x_j$ and $f = \|\mathbf{m}\|^2 = m_1^2 + m_2^2$. Forward:
# $\mathbf{m} = (0.03 + 0.08,\ 0.05 + 0.12) = (0.11, 0.17)$ and
# $f = 0.11^2 + 0.17^2 = 0.0121 + 0.0289 = 0.041$.

# %%
x = np.array([[0.1], [0.2]])
W = np.array([[0.3, 0.4], [0.5, 0.6]])
m = W @ x
f = float(np.sum(m**2))
show("m = W x", m)
print(f"f = 0.11^2 + 0.17^2 = {m[0, 0] ** 2:.4f} + {m[1, 0] ** 2:.4f} = {f:.6f}")

# %% [markdown]
# Backward, one variable at a time, index by index and then as a matrix formula:
#
# * $\dfrac{\partial f}{\partial m_i} = 2m_i$, so $\nabla_{\mathbf{m}} f = 2\mathbf{m}$.
# * $m_k$ depends on $W_{ij}$ only when $k = i$: $\dfrac{\partial m_k}{\partial W_{ij}} =
#   \mathbf{1}_{k=i}\, x_j$. Summing over the paths through $\mathbf{m}$,
#   $$\frac{\partial f}{\partial W_{ij}} = \sum_k \frac{\partial f}{\partial m_k}
#   \frac{\partial m_k}{\partial W_{ij}} = \sum_k (2m_k)(\mathbf{1}_{k=i}\,x_j) = 2m_i x_j,
#   \qquad\text{so}\qquad \nabla_W f = 2\,\mathbf{m}\,\mathbf{x}^T .$$
# * $\dfrac{\partial m_k}{\partial x_i} = W_{ki}$, so
#   $\dfrac{\partial f}{\partial x_i} = \sum_k (2m_k) W_{ki}$, that is
#   $\nabla_{\mathbf{x}} f = 2\,W^T\mathbf{m}$.

# %%
df_dm = 2 * m
df_dW = 2 * m @ x.T
df_dx = 2 * W.T @ m
show("df/dm = 2m", df_dm)
show("df/dW = 2 m x^T", df_dW)
show("df/dx = 2 W^T m", df_dx)

# %% [markdown]
# Centred finite differences nudge each entry of $W$, $\mathbf{x}$ or $\mathbf{m}$ in place and
# re-evaluate $f$:

# %%
m_var = m.copy()
num_m = numerical_gradient(lambda: float(np.sum(m_var**2)), m_var)
num_W = numerical_gradient(lambda: float(np.sum((W @ x) ** 2)), W)
num_x = numerical_gradient(lambda: float(np.sum((W @ x) ** 2)), x)
show("numerical df/dW", num_W)
show("numerical df/dx", num_x)
agree("df/dm vs finite differences", df_dm, num_m)
agree("df/dW vs finite differences", df_dW, num_W)
agree("df/dx vs finite differences", df_dx, num_x)

# %% [markdown]
# The scalar engine of notebooks 02 and 03 knows nothing about matrices: build the same
# expression from six `Value` leaves, let it run its backward sweep, and read the gradients off
# the leaves. They must be the entries of $2\mathbf{m}\mathbf{x}^T$ and $2W^T\mathbf{m}$.

# %%
Wv = [[Value(W[i, j], label=f"W{i + 1}{j + 1}") for j in range(2)] for i in range(2)]
xv = [Value(x[j, 0], label=f"x{j + 1}") for j in range(2)]
mv = [Wv[i][0] * xv[0] + Wv[i][1] * xv[1] for i in range(2)]
fv = mv[0] ** 2 + mv[1] ** 2
fv.label = "f"
fv.backward()

grad_W_engine = np.array([[Wv[i][j].grad for j in range(2)] for i in range(2)])
grad_x_engine = np.array([[xv[j].grad] for j in range(2)])
grad_m_engine = np.array([[mv[i].grad] for i in range(2)])
print(f"f from the engine = {fv.data:.6f}")
show("engine df/dW", grad_W_engine)
show("engine df/dx", grad_x_engine)
agree("engine vs 2 m x^T", grad_W_engine, df_dW, tol=1e-12)
agree("engine vs 2 W^T m", grad_x_engine, df_dx, tol=1e-12)
agree("engine vs 2 m", grad_m_engine, df_dm, tol=1e-12)

# %% [markdown]
# The drawing shows what the matrix formulas summarise: every weight $W_{ij}$ feeds one
# multiplication, every $x_j$ feeds two (one per row of $W$), and the gradient of $x_j$ is the
# sum of the two red numbers leaving it, $\sum_k 2m_k W_{kj}$.

# %%
show_figure(draw_graph(fv, title="f = ||Wx||^2 as a scalar graph: values (green), gradients (red)"))

# %% [markdown]
# **Exercise `wx_gradient`.** The same function with other numbers, $f = \|M\mathbf{u}\|^2$ for
# a $2 \times 3$ matrix $M$: compute $\partial f/\partial M$, which has the shape of $M$. Replace
# `None` with your answer and run the cell: it says whether the answer is right, and if not, what
# the likely bug is.

# %%
M = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
u = np.array([[2.0], [1.0], [-1.0]])  # f = ||M u||^2
answer = None  # your code here: df/dM
check("wx_gradient", answer)

# %% [markdown]
# ## 2. The dimension check
#
# A gradient of a scalar has **the shape of its variable**: $\nabla_W f$ is a matrix like $W$,
# $\nabla_{\mathbf{x}} f$ a column like $\mathbf{x}$. It is the quickest test of a derived formula:
# $2\mathbf{m}\mathbf{x}^T$ is $(2 \times 1)(1 \times 2) = 2 \times 2$, while the plausible-looking
# $2\mathbf{x}^T\mathbf{m}$ would be $1 \times 1$ and is wrong.

# %%
for name, var, grad in (("x", x, df_dx), ("W", W, df_dW), ("m", m, df_dm)):
    assert var.shape == grad.shape
    print(f"{name}: variable shape {var.shape}, gradient shape {grad.shape}")

# %% [markdown]
# ## 3. The sparse 3-index tensor, and why it collapses
#
# In a layer $\mathbf{z} = W\mathbf{a}$, the derivative of the vector $\mathbf{z}$ by the matrix
# $W$ has three indices:
#
# $$\frac{\partial z_i}{\partial W_{jk}} = \frac{\partial}{\partial W_{jk}} \sum_q W_{iq} a_q
# = \sum_q \delta_{ij}\,\delta_{qk}\, a_q = \delta_{ij}\, a_k .$$
#
# For an $n_{out} \times n_{in}$ layer that is $n_{out} \cdot n_{out} \cdot n_{in}$ numbers, but
# only the $n_{out} \cdot n_{in}$ entries with $i = j$ are non-zero. Contracted with the upstream
# gradient $\partial C/\partial \mathbf{z}$, the Kronecker delta eats the sum:
#
# $$\left(\frac{\partial C}{\partial W}\right)_{jk} = \sum_i \frac{\partial C}{\partial z_i}
# \,\delta_{ij}\, a_k = \frac{\partial C}{\partial z_j}\, a_k,
# \qquad\text{so}\qquad
# \frac{\partial C}{\partial W} = \frac{\partial C}{\partial \mathbf{z}}\,\mathbf{a}^T,$$
#
# an outer product of two vectors that are already known. For the example above
# ($\mathbf{z} = \mathbf{m}$, $\mathbf{a} = \mathbf{x}$,
# $\partial C/\partial\mathbf{z} = 2\mathbf{m}$) the tensor is $2 \times 2 \times 2$:


# %%
def layer_tensor(n_out, a):
    """The full tensor dz_i/dW_jk = delta_ij a_k of z = W a, shape (n_out, n_out, n_in)."""
    return np.einsum("ij,k->ijk", np.eye(n_out), a.ravel())


T = layer_tensor(2, x)
W_var = W.copy()
T_fd = numerical_jacobian(lambda v: v.reshape(2, 2) @ x, W_var.ravel()).reshape(2, 2, 2)
for i in range(2):
    show(f"dz_{i + 1}/dW (the slice i = {i + 1})", T[i])
agree("tensor vs finite differences", T, T_fd)
contracted = np.einsum("i,ijk->jk", df_dm.ravel(), T)
show("sum_i (df/dz_i) dz_i/dW_jk", contracted)
agree("contraction vs outer product 2 m x^T", contracted, df_dW, tol=1e-12)

# %% [markdown]
# Slice $i$ of the tensor is zero except for row $i$, which holds $\mathbf{a}^T$. For a wider
# layer the picture is a staircase of copies of $\mathbf{a}$ in a sea of zeros:

# %%
rng = np.random.default_rng(0)
n_out, n_in = 4, 3
a_demo = rng.uniform(0.2, 1.0, size=(n_in, 1))
T_demo = layer_tensor(n_out, a_demo)
fig, ax = plt.subplots(figsize=(9, 3.6))
image = ax.imshow(T_demo.transpose(1, 0, 2).reshape(n_out, n_out * n_in), cmap="Greens", vmin=0)
for i in range(1, n_out):
    ax.axvline(i * n_in - 0.5, color="0.4", lw=1)
ax.set_xticks(range(n_out * n_in))
ax.set_xticklabels([f"i={i + 1}\nk={k + 1}" for i in range(n_out) for k in range(n_in)], fontsize=10)
ax.set_yticks(range(n_out))
ax.set_yticklabels([f"j={j + 1}" for j in range(n_out)])
ax.set_xlabel("output index i of z and input index k of W_jk", fontsize=11)
ax.set_ylabel("row j of W", fontsize=11)
ax.set_title(
    r"$\partial z_i/\partial W_{jk} = \delta_{ij}\,a_k$ for a 4 x 3 layer: "
    "one block per output $z_i$",
    fontsize=12,
)
fig.colorbar(image, ax=ax, label="value")
plt.show()

# %% [markdown]
# The counts for a realistic layer show why backprop never builds the tensor:

# %%
for n_out, n_in in ((100, 50), (256, 784)):
    entries = n_out * n_out * n_in
    nonzero = n_out * n_in
    print(
        f"{n_out} x {n_in} layer: tensor {entries:>12,} entries, {nonzero:>7,} non-zero "
        f"({100 * nonzero / entries:.2f} %); the outer product needs {nonzero:,} multiplications"
    )

# %% [markdown]
# ## 4. Softmax and its Jacobian
#
# The output layer of a classifier turns scores $\mathbf{v} \in \mathbb{R}^K$ into probabilities,
#
# $$o_k = \frac{\exp(v_k)}{\sum_i \exp(v_i)} = \frac{\exp(v_k)}{Z}.$$
#
# Unlike the hidden activations it does not act element-wise: every $o_i$ depends on every
# $v_j$, so its Jacobian is a full matrix. The quotient rule gives
#
# $$\frac{\partial o_i}{\partial v_j} = \frac{\exp(v_i)\,\mathbf{1}_{i=j}\,Z -
# \exp(v_i)\exp(v_j)}{Z^2} = o_i\,\mathbf{1}_{i=j} - o_i o_j,
# \qquad
# \frac{\partial \mathbf{o}}{\partial \mathbf{v}} = \operatorname{diag}(\mathbf{o}) -
# \mathbf{o}\mathbf{o}^T .$$
#
# It is symmetric, and each row sums to zero: adding the same constant to every score changes no
# probability, so moving along $(1, \dots, 1)$ has no effect.

# %%
v = np.array([[1.0], [2.0], [0.5]])
o = softmax(v)
J_softmax = np.diag(o.ravel()) - o @ o.T
J_fd = numerical_jacobian(lambda s: softmax(s.reshape(-1, 1)), v.ravel().copy())
show("o = softmax(v)", o.ravel())
show("diag(o) - o o^T", J_softmax)
show("row sums", J_softmax.sum(axis=1))
agree("softmax Jacobian vs finite differences", J_softmax, J_fd)

# %%
fig, ax = plt.subplots(figsize=(5, 4.2))
lim = np.abs(J_softmax).max()
image = ax.imshow(J_softmax, cmap="RdBu_r", vmin=-lim, vmax=lim)
for i in range(3):
    for j in range(3):
        ax.text(j, i, f"{J_softmax[i, j]:+.3f}", ha="center", va="center", fontsize=11)
ax.set_xticks(range(3))
ax.set_xticklabels([f"$v_{j + 1}$" for j in range(3)], fontsize=12)
ax.set_yticks(range(3))
ax.set_yticklabels([f"$o_{i + 1}$" for i in range(3)], fontsize=12)
ax.set_xlabel("score changed", fontsize=11)
ax.set_ylabel("probability affected", fontsize=11)
ax.set_title("Softmax Jacobian at v = (1, 2, 0.5)", fontsize=12)
fig.colorbar(image, ax=ax, label="derivative")
plt.show()

# %% [markdown]
# Raising one score raises its own probability (positive diagonal) and takes probability from all
# the others (negative off-diagonal).

# %% [markdown]
# **Exercise `stable_softmax`.** Compute the softmax of every column of $Z$ (one column per
# example) without overflow: `np.exp(1000.0)` is `inf`.

# %%
Z = np.array([[1000.0, -3.0], [1001.0, 0.0], [1002.0, 2.0]])  # (K, m) = (3, 2)
answer = None  # your code here: softmax of Z
check("stable_softmax", answer)

# %% [markdown]
# ## 5. The softmax cross-entropy gradient: $\hat{\mathbf{y}} - \mathbf{t}$
#
# With a one-hot target $\mathbf{t}$ (class $k$), the cross-entropy loss is
# $L = -\sum_i t_i \ln o_i = -\ln o_k$. Its derivative by $\mathbf{o}$ is the row
# $\partial L/\partial\mathbf{o} = -(t_1/o_1, \dots, t_K/o_K)$, non-zero only at $k$. Multiply by
# the softmax Jacobian:
#
# $$\frac{\partial L}{\partial v_j} = \sum_i \left(-\frac{t_i}{o_i}\right)\left(o_i\mathbf{1}_{i=j}
# - o_i o_j\right) = -t_j + o_j \sum_i t_i = o_j - t_j,$$
#
# because the targets sum to one. The $1/o_i$ of the logarithm cancels the $o_i$ of the
# softmax, and what is left is the prediction minus the target, $\hat{\mathbf{y}} - \mathbf{t}$.
# (The lectures differentiate the log-likelihood $J = \mathbf{t}^T\ln\mathbf{o} = -L$ and get
# $[-o_1, \dots, 1 - o_k, \dots, -o_K] = (\mathbf{t} - \mathbf{o})^T$, the same with the other
# sign.)

# %%
t = one_hot(np.array([1]), 3)  # the target is the second class
dL_do = cross_entropy_grad(o, t)  # -t / o, a column with the shape of o
via_jacobian = (dL_do.T @ J_softmax).T  # row times Jacobian, stored as a column again
head = OUTPUT_LOSSES[("softmax", "cross_entropy")]
package = head.delta(v, o, t)
v_var = v.copy()
numeric = numerical_gradient(lambda: float(cross_entropy(softmax(v_var), t)[0]), v_var)
print(f"L = -ln o_2 = {float(cross_entropy(o, t)[0]):.6f}")
show("dL/do = -t/o", dL_do.ravel())
show("dL/do @ (diag(o) - o o^T)", via_jacobian.ravel())
show("o - t", (o - t).ravel())
show("OUTPUT_LOSSES[softmax, cross_entropy].delta", package.ravel())
agree("chain of Jacobians vs o - t", via_jacobian, o - t, tol=1e-12)
agree("package delta vs o - t", package, o - t, tol=1e-12)
agree("o - t vs finite differences", o - t, numeric)

# %% [markdown]
# **Exercise `softmax_cross_entropy`.** A softmax output layer with cross-entropy, averaged over a
# batch of $m = 4$ examples: compute $\partial J/\partial Z$ from the logits $Z$ and the labels
# $y$.

# %%
Z = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 0.5, -0.5, 1.5], [-0.5, 2.0, 0.0, 1.0]])
y = np.array([0, 2, 1, 2])  # the class of each of the m = 4 examples; J is the mean loss
answer = None  # your code here: dJ/dZ
check("softmax_cross_entropy", answer)

# %% [markdown]
# ## 6. Logistic regression
#
# **Binary.** One example $(\mathbf{x}, y)$ with $y \in \{0, 1\}$ and
# $o = \sigma(\mathbf{w}^T\mathbf{x} + b)$, written in two steps $z = \mathbf{w}^T\mathbf{x} + b$,
# $o = \sigma(z)$. The lectures maximise the log-likelihood
# $J = y\log o + (1 - y)\log(1 - o)$, with
#
# $$\frac{\partial J}{\partial o} = \frac{y}{o} - \frac{1-y}{1-o},\qquad
# \frac{\partial o}{\partial z} = o(1 - o),\qquad
# \frac{\partial z}{\partial \mathbf{w}} = \mathbf{x}^T,$$
#
# $$\frac{\partial J}{\partial \mathbf{w}} = \left(\frac{y}{o} - \frac{1-y}{1-o}\right)
# o(1-o)\,\mathbf{x}^T = \big(y(1 - o) - (1 - y)o\big)\,\mathbf{x}^T = (y - o)\,\mathbf{x}^T,$$
#
# a row (numerator layout). The course minimises the **loss** $L = -J$, the binary
# cross-entropy, and stores gradients in the shape of the variable, so it writes
#
# $$\nabla_{\mathbf{w}} L = (o - y)\,\mathbf{x}, \qquad \frac{\partial L}{\partial b} = o - y .$$
#
# Same numbers, opposite sign, transposed. Gradient *ascent* on $J$ and gradient *descent* on
# $L$ are the same update:
# $\mathbf{w} + \eta(y - o)\mathbf{x} = \mathbf{w} - \eta(o - y)\mathbf{x}$.
# Example: $\mathbf{w} = (0.4, -0.2)$, $b = 0.1$, $\mathbf{x} = (1.5, 0.5)$, $y = 1$, so
# $z = 0.6 - 0.1 + 0.1 = 0.6$.

# %%
w = np.array([[0.4], [-0.2]])
b = 0.1
x_lr = np.array([[1.5], [0.5]])
y_lr = 1.0
z = (w.T @ x_lr).item() + b
o_lr = float(sigmoid(z))
dJ_dw_row = (y_lr - o_lr) * x_lr.T  # the lectures: log-likelihood, numerator layout
grad_L_w = (o_lr - y_lr) * x_lr  # the course: loss, shape of w


def log_likelihood():
    p = float(sigmoid((w_var.T @ x_lr).item() + b))
    return y_lr * np.log(p) + (1 - y_lr) * np.log(1 - p)


w_var = w.copy()
num_J = numerical_gradient(log_likelihood, w_var)
num_L = numerical_gradient(lambda: -log_likelihood(), w_var)
print(f"z = {z:.6f}, o = sigma(z) = {o_lr:.6f}, J = {log_likelihood():.6f}, L = -J")
show("dJ/dw = (y - o) x^T   (lectures, a row)", dJ_dw_row)
show("grad_w L = (o - y) x  (course, a column)", grad_L_w)
agree("dJ/dw vs finite differences of J", dJ_dw_row, num_J.T)
agree("grad_w L vs finite differences of L", grad_L_w, num_L)
agree("grad_w L = -(dJ/dw)^T", grad_L_w, -dJ_dw_row.T, tol=1e-12)

# %% [markdown]
# The package agrees with the course's convention: the sigmoid + binary cross-entropy head has
# the error term $o - y$, and an `MLP` with no hidden layer (`sizes=[2, 1]`) *is* logistic
# regression, with `W1` $= \mathbf{w}^T$ (a $1 \times 2$ matrix, so its gradient is the row
# $(o - y)\mathbf{x}^T$: the shape of `W1`).

# %%
delta = OUTPUT_LOSSES[("sigmoid", "bce")].delta(np.array([[z]]), np.array([[o_lr]]), y_lr)
lr_net = MLP([2, 1], output="sigmoid", loss="bce")
lr_net.params["W1"][...] = w.T
lr_net.params["b1"][...] = b
grads = lr_net.gradients(x_lr, np.array([[y_lr]]))
print(f"package delta = {float(delta[0, 0]):.6f}  (o - y = {o_lr - y_lr:.6f})")
show("MLP dL/dW1", grads["W1"])
print(f"MLP dL/db1 = {float(grads['b1'][0, 0]):.6f}")
agree("MLP dL/dW1 vs (o - y) x^T", grads["W1"], grad_L_w.T, tol=1e-12)

# %% [markdown]
# **Multi-class.** With $K$ classes, $\mathbf{z} = W\mathbf{x} + \mathbf{b}$,
# $\mathbf{o} = \mathrm{softmax}(\mathbf{z})$ and a one-hot $\mathbf{y}$, the log-likelihood is
# $J = \mathbf{y}^T\log\mathbf{o}$. Section 5 gave $\partial J/\partial\mathbf{z} =
# (\mathbf{y} - \mathbf{o})^T$. Row $i$ of $W$ only reaches $z_i$, with
# $\partial z_i/\partial W_{i*} = \mathbf{x}^T$, so
# $\partial J/\partial W_{i*} = (y_i - o_i)\,\mathbf{x}^T$; stacking the rows,
#
# $$\frac{\partial J}{\partial W} = \begin{bmatrix} (y_1 - o_1)\,\mathbf{x}^T \\ \vdots \\
# (y_K - o_K)\,\mathbf{x}^T\end{bmatrix} = (\mathbf{y} - \mathbf{o})\,\mathbf{x}^T
# = \frac{\partial J}{\partial \mathbf{z}}\,\mathbf{x}^T,$$
#
# the outer product of section 3 again. For the loss $L = -J$: $\nabla_W L =
# (\mathbf{o} - \mathbf{y})\,\mathbf{x}^T$. Below: 4 features, 3 classes, target class 3.

# %%
rng = np.random.default_rng(1)
n_feat, K = 4, 3
W_mc = rng.normal(0, 0.5, size=(K, n_feat))
b_mc = rng.normal(0, 0.1, size=(K, 1))
x_mc = rng.normal(size=(n_feat, 1))
y_mc = one_hot(np.array([2]), K)
o_mc = softmax(W_mc @ x_mc + b_mc)
dJ_dW = (y_mc - o_mc) @ x_mc.T  # lectures: log-likelihood
grad_L_W = (o_mc - y_mc) @ x_mc.T  # course: loss

mc_net = MLP([n_feat, K], output="softmax", loss="cross_entropy")
mc_net.params["W1"][...] = W_mc
mc_net.params["b1"][...] = b_mc
W_var = mc_net.params["W1"]
numeric = numerical_gradient(lambda: mc_net.loss(x_mc, y_mc), W_var)
show("o", o_mc.ravel())
show("dJ/dW = (y - o) x^T", dJ_dW)
show("MLP gradient of the loss", mc_net.gradients(x_mc, y_mc)["W1"])
agree("(o - y) x^T vs MLP", grad_L_W, mc_net.gradients(x_mc, y_mc)["W1"], tol=1e-12)
agree("(o - y) x^T vs finite differences", grad_L_W, numeric)

# %% [markdown]
# ## 7. A hidden layer: ReLU, then softmax
#
# The lectures' network has no biases (they are folded into the weights):
#
# $$\mathbf{z} = W\mathbf{x},\quad \mathbf{h} = \max(\mathbf{z}, 0),\quad \mathbf{v} = U\mathbf{h},
# \quad \mathbf{o} = \mathrm{softmax}(\mathbf{v}),\quad L = -\mathbf{y}^T\log\mathbf{o}.$$
#
# Backward, one Jacobian at a time, with column error signals (the course's convention):
#
# * output: $\boldsymbol\delta_o = \partial L/\partial\mathbf{v} = \mathbf{o} - \mathbf{y}$
#   (section 5);
# * $\partial\mathbf{v}/\partial\mathbf{h} = U$, so $\boldsymbol\delta_h = U^T\boldsymbol\delta_o$;
# * $\partial\mathbf{h}/\partial\mathbf{z} = \operatorname{diag}(\mathbf{1}[z_i > 0])$, so
#   $\boldsymbol\delta_z = \boldsymbol\delta_h \odot \mathbf{1}[\mathbf{z} > 0]$ (a diagonal
#   Jacobian is an element-wise product);
# * the weights by the outer-product rule: $\partial L/\partial U = \boldsymbol\delta_o
#   \mathbf{h}^T$ and $\partial L/\partial W = \boldsymbol\delta_z\mathbf{x}^T$.
#
# Sizes $[n_0, n_1, K] = [4, 5, 3]$; the lectures' log-likelihood $J = -L$ has the same gradients
# with the opposite sign.

# %%
rng = np.random.default_rng(2)
n0, n1, K = 4, 5, 3
W1 = rng.normal(0, 0.7, size=(n1, n0))
U = rng.normal(0, 0.7, size=(K, n1))
x1 = rng.normal(size=(n0, 1))
y1 = one_hot(np.array([0]), K)

z1 = W1 @ x1
h1 = relu(z1)
o1 = softmax(U @ h1)
delta_o = o1 - y1
delta_h = U.T @ delta_o
delta_z = delta_h * (z1 > 0)
dL_dU = delta_o @ h1.T
dL_dW = delta_z @ x1.T
show("z", z1.ravel())
show("delta_o = o - y", delta_o.ravel())
show("delta_h = U^T delta_o", delta_h.ravel())
show("delta_z = delta_h * 1[z > 0]", delta_z.ravel())
show("dL/dU = delta_o h^T", dL_dU)
show("dL/dW = delta_z x^T", dL_dW)

# %% [markdown]
# The entries of $\boldsymbol\delta_z$ are zero exactly where $z_i < 0$: a ReLU that is off passes
# no gradient, so the corresponding row of $\partial L/\partial W$ is zero too (and, since
# that unit's output $h_i$ is 0, so is column $i$ of $\partial L/\partial U$).
#
# The package's `MLP` with `sizes=[4, 5, 3]`, `hidden="relu"`, `output="softmax"`,
# `loss="cross_entropy"` computes the same thing (its biases start at zero, so its forward pass is
# the lectures' network once `W1` and `W2` are set):

# %%
net = MLP([n0, n1, K], hidden="relu", output="softmax", loss="cross_entropy")
net.params["W1"][...] = W1
net.params["W2"][...] = U
g = net.gradients(x1, y1)
agree("cache Z1 vs z", net.cache["Z1"], z1, tol=1e-12)
agree("MLP dW2 vs delta_o h^T", g["W2"], dL_dU, tol=1e-12)
agree("MLP dW1 vs delta_z x^T", g["W1"], dL_dW, tol=1e-12)
agree("MLP db2 vs delta_o", g["b2"], delta_o, tol=1e-12)
agree("MLP db1 vs delta_z", g["b1"], delta_z, tol=1e-12)
numeric = numerical_gradient(lambda: net.loss(x1, y1), net.params["W1"])
agree("delta_z x^T vs finite differences", dL_dW, numeric)

# %% [markdown]
# ## 8. Row versus column conventions
#
# In the hidden-layer derivation the lectures keep the numerator layout: $\partial L/\partial
# \mathbf{v}$ is a **row** ($1 \times K$), and the chain rule multiplies rows by Jacobians from
# the right,
#
# $$\boldsymbol\delta^{(o)} = \frac{\partial L}{\partial \mathbf{v}},\qquad
# \boldsymbol\delta^{(h)} = \boldsymbol\delta^{(o)}\,U,\qquad
# \boldsymbol\delta^{(z)} = \boldsymbol\delta^{(h)}\operatorname{diag}(\mathbf{1}[z_i > 0]),\qquad
# \frac{\partial L}{\partial U} = \boldsymbol\delta^{(o)T}\mathbf{h}^T,\qquad
# \frac{\partial L}{\partial W} = \boldsymbol\delta^{(z)T}\mathbf{x}^T .$$
#
# Elsewhere (and in this course) error signals are **columns**: $\boldsymbol\delta_h =
# U^T\boldsymbol\delta_o$, the transpose of $\boldsymbol\delta^{(o)}U$. Only the error signals
# change layout; the weight gradients come out identical, because both conventions give them the
# shape of the weights.

# %%
row_o = delta_o.T  # 1 x K
row_h = row_o @ U  # 1 x n1
row_z = row_h @ np.diag((z1 > 0).ravel().astype(float))  # 1 x n1
row_dU = row_o.T @ h1.T
row_dW = row_z.T @ x1.T
for name, row, col in (("o", row_o, delta_o), ("h", row_h, delta_h), ("z", row_z, delta_z)):
    print(f"delta_{name}: row layout {row.shape}, column layout {col.shape}")
    agree(f"  row delta_{name} = (column delta_{name})^T", row, col.T, tol=1e-12)
agree("dL/dU, both layouts", row_dU, dL_dU, tol=1e-12)
agree("dL/dW, both layouts", row_dW, dL_dW, tol=1e-12)
lectures_row = (y1 - o1).T  # the lectures' delta for the log-likelihood J = -L
show("lectures' delta^(o) for J = y^T log o: [-o1, ..., 1 - o_k, ..., -oK]", lectures_row)

# %% [markdown]
# Column signals have two practical advantages, which is why the course uses them: an error
# signal has the shape of the layer it belongs to (like $\mathbf{z}$ and $\mathbf{h}$), and a
# mini-batch simply puts one column per sample side by side.
#
# ## 9. Mini-batches
#
# Stack $m$ samples as the columns of $X$, shape $(n_0, m)$. The forward pass is unchanged,
# $Z^{[1]} = W^{[1]}X + \mathbf{b}^{[1]}$, because $WX = [W\mathbf{x}^{(1)}, \dots,
# W\mathbf{x}^{(m)}]$ (the bias column is broadcast to every column). The cost is the mean of the
# per-sample losses, $C = \frac1m\sum_i C^{(i)}$, so every parameter gradient is the mean of the
# per-sample gradients. With $dZ$ the matrix whose column $i$ is sample $i$'s error signal
# $\partial C^{(i)}/\partial\mathbf{z}^{(i)}$ (not yet averaged),
#
# $$dW = \frac1m\sum_{i=1}^m \mathbf{dz}^{(i)}\,\mathbf{a}^{(i)T} = \frac1m\, dZ\, A^T,
# \qquad db = \frac1m\sum_{i=1}^m \mathbf{dz}^{(i)} = \frac1m\, dZ\,\mathbf{1},$$
#
# where $A$ holds the layer's inputs as columns and $\mathbf{1}$ is a column of $m$ ones. A
# matrix product $dZ\,A^T$ *is* the sum of the outer products of matching columns. The error
# signals travel back column by column exactly as for one sample:
# $dZ^{[1]} = (W^{[2]T} dZ^{[2]}) \odot \mathbf{1}[Z^{[1]} > 0]$.
#
# **Two meanings of $dZ$.** Here, in notebook 07 and on the lectures' mini-batch slides, $dZ$
# (or $\partial C/\partial Z$) is this *unaveraged* matrix of per-sample error signals, and the
# $\frac1m$ comes in $dW$ and $db$. Notebook 06 (`delta`), the package and problem sets 3 and
# 4 (`dZ`) use the other common convention: the gradient of the mean cost,
# $\partial J/\partial Z = \frac1m\, dZ$, which already contains the $\frac1m$, so there
# $dW = dZ\,A^T$ and $db = dZ\,\mathbf{1}$ without it. Both give the same $dW$ and $db$.

# %%
rng = np.random.default_rng(3)
m_batch = 6
X = rng.normal(size=(n0, m_batch))
labels = np.array([0, 2, 1, 1, 0, 2])
Y = one_hot(labels, K)
b1 = rng.normal(0, 0.1, size=(n1, 1))
b2 = rng.normal(0, 0.1, size=(K, 1))

Z1 = W1 @ X + b1
A1 = relu(Z1)
O = softmax(U @ A1 + b2)
dZ2 = O - Y  # one column per sample, not averaged
dW2 = dZ2 @ A1.T / m_batch
db2 = dZ2 @ np.ones((m_batch, 1)) / m_batch
dZ1 = (U.T @ dZ2) * (Z1 > 0)
dW1 = dZ1 @ X.T / m_batch
db1 = dZ1 @ np.ones((m_batch, 1)) / m_batch
print(f"X {X.shape}, Z1 {Z1.shape}, dZ2 {dZ2.shape}, A1^T {A1.T.shape} -> dW2 {dW2.shape}")
print(f"dZ1 {dZ1.shape}, X^T {X.T.shape} -> dW1 {dW1.shape}; db1 {db1.shape}, db2 {db2.shape}")

# %% [markdown]
# Three checks: against the mean of six single-sample gradients, against the package's batched
# backprop on the whole $X$, and against finite differences of the batch cost.

# %%
batch_net = MLP([n0, n1, K], hidden="relu", output="softmax", loss="cross_entropy")
batch_net.params.update(W1=W1.copy(), b1=b1.copy(), W2=U.copy(), b2=b2.copy())
per_sample = [batch_net.gradients(X[:, [i]], labels[i : i + 1]) for i in range(m_batch)]
mean_of_samples = {k: np.mean([gs[k] for gs in per_sample], axis=0) for k in batch_net.params}
batched = batch_net.gradients(X, labels)
by_hand = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
for k in ("W1", "b1", "W2", "b2"):
    agree(
        f"{k}: by hand vs mean of per-sample gradients",
        by_hand[k],
        mean_of_samples[k],
        tol=1e-12,
    )
    agree(f"{k}: by hand vs MLP on the batch", by_hand[k], batched[k], tol=1e-12)
numeric = numerical_gradient(lambda: batch_net.loss(X, labels), batch_net.params["W1"])
agree("dW1 vs finite differences of the batch cost", dW1, numeric)
show("db2 = (1/m) dZ2 1", db2.ravel())

# %% [markdown]
# ## 10. Graphs whose nodes are vectors and matrices
#
# Notebook 02 drew graphs whose nodes were numbers. The lectures' definition is wider: a node
# holds a **variable**, which may be a scalar, a vector, a matrix or a tensor, and an edge
# $x \to y$ still means that $y$ is computed from $x$. Everything this notebook computed so far
# fits that picture: one node per array, one operation per node. The lectures give four
# examples:
#
# - (a) $z = x y$, two scalars multiplied;
# - (b) logistic regression's prediction $\hat y = \sigma(\mathbf{x}^T\mathbf{w} + b)$;
# - (c) $H = \max\{0, XW + \mathbf{b}\}$: the ReLU activations of a whole minibatch, with one
#   example per **row** of the design matrix $X$ (the layout PyTorch uses);
# - (d) a graph with two outputs: a prediction and the weight-decay penalty
#   $\lambda\sum_i w_i^2$.
#
# `course.tensorgraph.Tensor` builds such graphs while you compute, as `Value` did for numbers.
# A node keeps its array in `.data` and, after a backward sweep, its gradient in `.grad`, an
# array **of the same shape**. The local derivative of an edge would now be a Jacobian tensor
# (section 3), so an operation keeps instead the rule that turns the gradient of its result into
# the gradients of its arguments, beside its forward computation: `U = X @ W` sends
# `dX = dU @ W.T` and `dW = X.T @ dU`; `+` sends its upstream gradient to both arguments, summed
# over the axes along which an argument was broadcast; `relu` multiplies by the mask $Z > 0$.
# The sweep is Algorithm 4 again.
#
# `draw_array_graph` draws such a graph like `draw_graph`, with shapes in place of numbers: a
# leaf's box shows its name and shape, the green label above an edge leaving an operation names
# the value flowing forward and its shape, and the red label below every edge the gradient
# flowing back and its shape.
#
# Every gradient below is checked against centred finite differences in float64. A matrix
# output needs a scalar cost downstream to have a gradient: we use $J = \sum_{ij} G_{ij}
# H_{ij}$ with a fixed random $G$, whose gradient by $H$ is $G$ itself, so $G$ is the upstream
# gradient the sweep starts from.
#
# **(a) Two scalars.** $z = x y$ at $x = 2$, $y = -3$: $\partial z/\partial x = y = -3$ and
# $\partial z/\partial y = x = 2$, as in notebook 02; a scalar is an array of shape $()$.

# %%
xa, ya = Tensor(2.0, label="x"), Tensor(-3.0, label="y")
za = xa * ya
za.label = "z"
za.backward()  # a scalar output: the sweep starts from dz/dz = 1
print(f"z = {za.data}, dz/dx = {xa.grad}, dz/dy = {ya.grad}")
assert (xa.grad, ya.grad) == (-3.0, 2.0)
show_figure(draw_array_graph(za, title="(a) z = x y: two scalar nodes"))

# %% [markdown]
# **(b) Logistic regression's prediction.** With $\mathbf{x}$ and $\mathbf{w}$ columns of shape
# $(n, 1)$ and a scalar $b$, the graph has three operations: $u_1 = \mathbf{x}^T\mathbf{w}$
# (`dot`), $u_2 = u_1 + b$ and $\hat y = \sigma(u_2)$. Take the numbers of section 6 and start the
# sweep from the binary cross-entropy's gradient $\partial L/\partial\hat y = -y/\hat y +
# (1 - y)/(1 - \hat y)$: the sweep multiplies it by $\sigma' = \hat y(1 - \hat y)$ and then by
# $\mathbf{x}$, so $\mathbf{w}$ must receive section 6's $(o - y)\,\mathbf{x}$, a column like
# $\mathbf{w}$.

# %%
xb, wb, bb = Tensor(x_lr, label="x"), Tensor(w, label="w"), Tensor(b, label="b")
u1 = dot(xb, wb)
u2 = u1 + bb
yhat_b = u2.sigmoid()
u1.label, u2.label, yhat_b.label = "u1", "u2", "ŷ"
p = float(yhat_b.data)
yhat_b.backward(-y_lr / p + (1 - y_lr) / (1 - p))  # dL/dŷ of the binary cross-entropy
print(f"ŷ = {p:.6f} (section 6: o = {o_lr:.6f})")
print(f"w {wb.shape}, dL/dw {wb.grad.shape}; b {bb.shape}, dL/db {bb.grad.shape}")
show("dL/dw from the sweep", wb.grad)
agree("sweep vs section 6's (o - y) x", wb.grad, grad_L_w, tol=1e-12)
agree("dL/db vs o - y", bb.grad, o_lr - y_lr, tol=1e-12)


def bce_of_w():
    q = float(sigmoid((w_var.T @ x_lr).item() + b))
    return -(y_lr * np.log(q) + (1 - y_lr) * np.log(1 - q))


w_var = w.copy()
agree("dL/dw vs finite differences", wb.grad, numerical_gradient(bce_of_w, w_var))
show_figure(draw_array_graph(yhat_b, dims={"n": 2}, title="(b) ŷ = σ(xᵀw + b)"))

# %% [markdown]
# **(c) A ReLU layer on a minibatch, one example per row.** $X$ has shape $(m, n)$: $m = 4$
# examples of $n = 3$ features, one per row. $W$ has shape $(n, h)$ with $h = 5$ hidden units
# and $\mathbf{b}$ shape $(h,)$; it is added to every row of $U_1 = XW$, shape $(m, h)$, by
# broadcasting. Then $H = \max\{0, U_2\}$, one row of activations per example. (The sizes are
# all different, so the drawing can write every size as its letter.)

# %%
rng = np.random.default_rng(4)
m_c, n_c, h_c = 4, 3, 5
X_rows = rng.normal(size=(m_c, n_c))
W_rows = rng.normal(0, 0.6, size=(n_c, h_c))
b_rows = rng.normal(0, 0.3, size=h_c)
G = rng.normal(size=(m_c, h_c))  # the upstream gradient dJ/dH of J = sum(G * H)

X_t, W_t, b_t = Tensor(X_rows, label="X"), Tensor(W_rows, label="W"), Tensor(b_rows, label="b")
U1 = X_t @ W_t
U2 = U1 + b_t
H = U2.relu()
U1.label, U2.label, H.label = "U1", "U2", "H"
H.backward(G)
for node in (X_t, W_t, b_t, U1, U2, H):
    print(f"{node.label:>2}: value {node.data.shape}, gradient {node.grad.shape}")
    assert node.grad.shape == node.data.shape
show_figure(
    draw_array_graph(H, dims={"m": m_c, "n": n_c, "h": h_c}, title="(c) H = max{0, XW + b}")
)

# %% [markdown]
# The rules of the three operations, written out: $dU_2 = G \odot \mathbf{1}[U_2 > 0]$; the
# bias was added to all $m$ rows, so its gradient sums $dU_2$ over the rows, $d\mathbf{b} =
# \sum_i (dU_2)_{i,:}$; and $dW = X^T dU_2$, $(n, m)(m, h) = (n, h)$, the shape of $W$, while
# $dX = dU_2 W^T$ has the shape of $X$. Each is checked against finite differences of $J$:


# %%
def cost_c():
    return float(np.sum(G * np.maximum(0.0, X_rows @ W_rows + b_rows)))


dU2 = G * (U2.data > 0)
agree("dW = X^T dU2", W_t.grad, X_rows.T @ dU2, tol=1e-12)
agree("db = dU2 summed over the rows", b_t.grad, dU2.sum(axis=0), tol=1e-12)
agree("dX = dU2 W^T", X_t.grad, dU2 @ W_rows.T, tol=1e-12)
for leaf, array in ((X_t, X_rows), (W_t, W_rows), (b_t, b_rows)):
    agree(f"d{leaf.label} vs finite differences", leaf.grad, numerical_gradient(cost_c, array))

# %% [markdown]
# **The same layer in the course's columns.** The course writes one example per **column**:
# $A = X^T$ of shape $(n, m)$, $W_c = W^T$ of shape $(h, n)$, $\mathbf{b}_c$ of shape $(h, 1)$, and
# $Z = W_c A + \mathbf{b}_c$, $(h, m)$. Transposing $XW + \mathbf{b}$ gives exactly that,
# $(XW)^T = W^T X^T$, so the column layer computes $H^T$, and every gradient is the transpose of
# its row twin: $dW_c = dZ\,A^T = (X^T dU_2)^T = dW^T$. The course's own layers
# (`course.layers.affine_forward` and `relu_forward`, with their backward functions) confirm it
# on the same numbers:

# %%
Z_cols, affine_cache = affine_forward(X_rows.T, W_rows.T, b_rows.reshape(-1, 1))
H_cols, relu_cache = relu_forward(Z_cols)
dZ_cols = relu_backward(G.T, relu_cache)
dA_cols, dW_cols, db_cols = affine_backward(dZ_cols, affine_cache)
print(f"columns: A {X_rows.T.shape}, W_c {W_rows.T.shape}, b_c {b_rows.reshape(-1, 1).shape}")
print(f"         Z = W_c A + b_c {Z_cols.shape}, dW_c {dW_cols.shape}, db_c {db_cols.shape}")
agree("column H = (row H)^T", H_cols, H.data.T, tol=1e-12)
agree("column dW_c = (row dW)^T", dW_cols, W_t.grad.T, tol=1e-12)
agree("column dA = (row dX)^T", dA_cols, X_t.grad.T, tol=1e-12)
agree("column db_c = row db as a column", db_cols, b_t.grad.reshape(-1, 1), tol=1e-12)

# %% [markdown]
# **(d) Two outputs: a prediction and a weight-decay penalty.** A linear prediction
# $\hat y = \mathbf{x}^T\mathbf{w}$ and the penalty $P = \lambda\sum_i w_i^2$, computed as
# `sqr`, `sum` and a product with $\lambda$. Notebook 06 trains with the cost
# $J = L(\hat y) + P$; here $L = \frac12(\hat y - t)^2$. The graph has two outputs, so the
# sweep starts from two upstream gradients at once: $\partial J/\partial\hat y = \hat y - t$ and
# $\partial J/\partial P = 1$. The weights $\mathbf{w}$ feed both `dot` and `sqr`: a **branch**.
# Each path sends $\mathbf{w}$ its own share, $(\hat y - t)\,\mathbf{x}$ through the prediction
# and $2\lambda\mathbf{w}$ through the penalty, and the shares add, as at any branch of
# notebook 03: $\nabla_{\mathbf{w}} J = (\hat y - t)\,\mathbf{x} + 2\lambda\mathbf{w}$.

# %%
rng = np.random.default_rng(5)
n_d, lam, t_d = 3, 0.1, 1.0
x_d = rng.normal(size=(n_d, 1))
w_d = rng.normal(size=(n_d, 1))

x_t, w_t, lam_t = Tensor(x_d, label="x"), Tensor(w_d, label="w"), Tensor(lam, label="λ")
yhat_d = dot(x_t, w_t)
w_sq = w_t.square()
w_sq_sum = w_sq.sum()
penalty = w_sq_sum * lam_t
yhat_d.label, w_sq.label, w_sq_sum.label, penalty.label = "ŷ", "u2", "u3", "P"
residual = float(yhat_d.data) - t_d

shares = {}
for path, seeds in (("prediction", {yhat_d: residual}), ("penalty", {penalty: 1.0})):
    backward(seeds)  # one output at a time: each path's share alone
    shares[path] = w_t.grad.copy()
backward({yhat_d: residual, penalty: 1.0})  # both outputs: the shares meet at w
show("share through the prediction, (ŷ - t) x", shares["prediction"])
show("share through the penalty, 2 λ w", shares["penalty"])
show("dJ/dw, both outputs", w_t.grad)
agree("prediction share vs (ŷ - t) x", shares["prediction"], residual * x_d, tol=1e-12)
agree("penalty share vs 2 λ w", shares["penalty"], 2 * lam * w_d, tol=1e-12)
both = shares["prediction"] + shares["penalty"]
agree("dJ/dw = sum of the two shares", w_t.grad, both, tol=1e-12)


def cost_d():
    return 0.5 * ((x_d.T @ w_d).item() - t_d) ** 2 + lam * float(np.sum(w_d**2))


agree("dJ/dw vs finite differences", w_t.grad, numerical_gradient(cost_d, w_d))
agree("dJ/dx vs finite differences", x_t.grad, numerical_gradient(cost_d, x_d))
two_outputs = draw_array_graph(
    [yhat_d, penalty], dims={"n": n_d}, title="(d) ŷ = xᵀw and P = λ Σ w²"
)
show_figure(two_outputs)

# %% [markdown]
# In the drawing the two red shares leave $\mathbf{w}$ along its two edges, each of shape
# $(n, 1)$, and their sum $\Sigma\,d\mathbf{w}$ stands beside the node. The same happens to every
# weight matrix of a network trained with weight decay: notebook 06's
# $\partial J/\partial W^{[l]} = \boldsymbol\delta^{[l]} A^{[l-1]T} + 2\lambda W^{[l]}$ is the
# data path's share plus the penalty's.
#
# ## Check yourself
#
# **1.** A layer $\mathbf{z} = W\mathbf{a}$ has $W$ of shape $3 \times 5$. What shape does
# $\partial C/\partial W$ have? How many entries does the full tensor $\partial\mathbf{z}/\partial
# W$ have, and how many of them are non-zero?
#
# <details><summary>Answer</summary>
#
# $\partial C/\partial W$ has the shape of $W$, $3 \times 5$, and equals
# $(\partial C/\partial\mathbf{z})\,\mathbf{a}^T$. The tensor has $3 \cdot 3 \cdot 5 = 45$
# entries, of which the $15$ with $i = j$ can be non-zero (they are the entries of $\mathbf{a}$,
# repeated once per output).
#
# </details>
#
# **2.** For $f = \|W\mathbf{x}\|^2$ with $W = I$, what are $\nabla_{\mathbf{x}} f$ and
# $\nabla_W f$? Check them against the general formulas.
#
# <details><summary>Answer</summary>
#
# With $W = I$, $\mathbf{m} = \mathbf{x}$ and $f = \|\mathbf{x}\|^2$, so
# $\nabla_{\mathbf{x}} f = 2\mathbf{x}$; the general $2W^T\mathbf{m}$ gives $2I\mathbf{x}$, the
# same. $\nabla_W f = 2\mathbf{m}\mathbf{x}^T = 2\mathbf{x}\mathbf{x}^T$, a matrix even though $W$
# happens to be the identity.
#
# </details>
#
# **3.** Why does every row of the softmax Jacobian $\operatorname{diag}(\mathbf{o}) -
# \mathbf{o}\mathbf{o}^T$ sum to zero?
#
# <details><summary>Answer</summary>
#
# Row $i$ sums to $o_i - o_i\sum_j o_j = o_i - o_i = 0$. In words: adding the same number to all
# scores leaves every probability unchanged, so the directional derivative along $(1, \dots, 1)$
# is zero. (The columns sum to zero too, because the probabilities always add up to one.)
#
# </details>
#
# **4.** A student trains logistic regression with the update
# $\mathbf{w} \leftarrow \mathbf{w} - \eta\,(y - o)\,\mathbf{x}$. What goes wrong?
#
# <details><summary>Answer</summary>
#
# $(y - o)\mathbf{x}$ is the gradient of the log-likelihood $J$, which should be *maximised*;
# subtracting it descends $J$, i.e. climbs the loss, and the model gets worse at every step.
# Either add it ($\mathbf{w} + \eta(y - o)\mathbf{x}$) or subtract the loss gradient
# ($\mathbf{w} - \eta(o - y)\mathbf{x}$, the course's form).
#
# </details>
#
# **5.** What changes if the $\frac1m$ is left out of $dW = \frac1m dZ\,A^T$?
#
# <details><summary>Answer</summary>
#
# The gradient becomes the *sum* over the batch instead of the mean, so it grows with the batch
# size: doubling $m$ doubles every step, and a learning rate tuned for one batch size is wrong for
# another. It is also no longer the gradient of the cost $C = \frac1m\sum_i C^{(i)}$, so a
# finite-difference check of $C$ fails by a factor of $m$.
#
# </details>
#
# ## Summary
#
# - Vectorised backprop multiplies Jacobians; a gradient always has its variable's shape. For
#   $f = \|W\mathbf{x}\|^2$ at the lectures' numbers: $\mathbf{m} = (0.11, 0.17)$, $f = 0.041$,
#   $\nabla_{\mathbf{m}} f = 2\mathbf{m}$, $\nabla_W f = 2\mathbf{m}\mathbf{x}^T$,
#   $\nabla_{\mathbf{x}} f = 2W^T\mathbf{m}$.
# - $\partial z_i/\partial W_{jk} = \delta_{ij}a_k$ is a sparse 3-index tensor that is never built:
#   contracted with the upstream gradient it is the outer product
#   $(\partial C/\partial\mathbf{z})\,\mathbf{a}^T$.
# - Softmax has the full Jacobian $\operatorname{diag}(\mathbf{o}) - \mathbf{o}\mathbf{o}^T$;
#   combined with cross-entropy the gradient at the scores is simply $\hat{\mathbf{y}} -
#   \mathbf{t}$.
# - Logistic regression: the log-likelihood gives $(y - o)\mathbf{x}^T$, the loss the course
#   minimises gives $(o - y)\mathbf{x}$; multi-class:
#   $(\partial L/\partial\mathbf{z})\,\mathbf{x}^T$.
#   With a ReLU hidden layer: $\boldsymbol\delta_h = U^T\boldsymbol\delta_o$,
#   $\boldsymbol\delta_z = \boldsymbol\delta_h \odot \mathbf{1}[\mathbf{z} > 0]$.
# - Row and column error signals are transposes of each other and give identical weight
#   gradients; the course uses columns.
# - On a mini-batch $X \in \mathbb{R}^{n_0 \times m}$: $dW = \frac1m dZ\,A^T$ and
#   $db = \frac1m dZ\,\mathbf{1}$, the mean of the per-sample gradients.
# - A node of a computational graph may hold a vector or a matrix; its gradient has its shape.
#   In rows, $H = \max\{0, XW + \mathbf{b}\}$ gives $dW = X^T dU$ and $d\mathbf{b} = $ the
#   column sums of $dU$, the transposes of the column layer's $dZ\,A^T$ and row sums. Where two
#   paths meet, as at $\mathbf{w}$ feeding a prediction and a weight-decay penalty, the
#   gradients add: $(\hat y - t)\,\mathbf{x} + 2\lambda\mathbf{w}$.
#
# **Next:** [06 · The MLP algorithm](06_mlp_algorithm.ipynb) assembles these pieces into
# Algorithms 1 and 2 for a network of any depth, with weight decay.
