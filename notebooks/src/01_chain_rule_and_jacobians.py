# %% [markdown]
# # 01 · The chain rule and Jacobians
#
# Backpropagation is the chain rule, applied in a clever order. This notebook collects the
# calculus the rest of the series stands on: the chain rule for one variable and for many, the
# Jacobian matrix with its two layouts, the vector chain rule, and the difference between the cost
# $J$ and a Jacobian $\mathbf{J}$. Every formula is evaluated at a point and checked against
# centred finite differences.
#
# Prepares for problem set 1 (ps1, computational graphs), with notebooks 02 and 03, and for
# problem set 6 (ps6, your own autograd engine), which builds on them and on problem set 1. The
# exercises in the text check your answer when you run their cell; after trying,
# `solution("name")` prints a worked answer.
#
# ## What you will be able to do
#
# - apply the scalar chain rule and its two multivariate forms (a sum over paths, and a gradient),
#   and confirm each one numerically;
# - write the Jacobian of a vector function in numerator layout and in denominator layout, and
#   evaluate it at a point;
# - predict the shape of any derivative: scalar or vector, by scalar or vector;
# - differentiate a composition as a product of Jacobians (the vector chain rule);
# - tell the scalar cost $J(\theta)$ from a Jacobian matrix, and count why backprop multiplies
#   the Jacobians from the left.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from course.activations import sigmoid, sigmoid_prime
from course.exercises import check, solution
from course.gradcheck import numerical_gradient, numerical_jacobian, relative_error
from course.graph import Value, backward_steps
from course.mlp import MLP
from course.viz import draw_graph

np.set_printoptions(precision=6, suppress=True)


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
# `course.gradcheck.numerical_gradient(f, x)` differentiates a *scalar* function `f()` with
# respect to the entries of an array `x` by centred differences,
# $\partial f/\partial x_i \approx (f(x + h e_i) - f(x - h e_i))/(2h)$. A Jacobian is a stack of
# such gradients, one row per output: `course.gradcheck.numerical_jacobian(F, v)` builds it row
# by row that way (networks themselves only ever need gradients of a scalar cost, which is the
# point of the last section).
#
# Comparisons go through `agree(label, a, b)`, which asserts that the relative error
# $\|a - b\| / (\|a\| + \|b\|)$ is below a tolerance and prints that bound. With $h = 10^{-5}$
# centred differences match an exact derivative to about $10^{-10}$; the digits of that rounding
# noise vary from machine to machine, so the bound (here $10^{-7}$, the package's threshold) is
# what gets printed.


# %% [markdown]
# ## 1. The scalar chain rule
#
# Let $z = z(y(x))$: $x$ changes $y$, and $y$ changes $z$. A small step $dx$ moves $y$ by
# $dy = \frac{dy}{dx}\,dx$, which moves $z$ by $dz = \frac{dz}{dy}\,dy$. Chaining the two,
#
# $$\frac{dz}{dx} = \frac{dz}{dy}\,\frac{dy}{dx}
# \qquad\text{or}\qquad dz = \left(\frac{dz}{dy}\right)\left(\frac{dy}{dx}\right)dx .$$
#
# Example: $y = x^2$, $z = \sin y$, at $x = 1$. Then $\frac{dy}{dx} = 2x = 2$,
# $\frac{dz}{dy} = \cos y = \cos 1$, and $\frac{dz}{dx} = 2\cos 1$.

# %%
x0 = 1.0
y0 = x0**2
dz_dy, dy_dx = np.cos(y0), 2 * x0
chain = dz_dy * dy_dx
x_arr = np.array([x0])
numeric = numerical_gradient(lambda: float(np.sin(x_arr[0] ** 2)), x_arr)[0]
print(f"dz/dy = cos(1) = {dz_dy:.6f},  dy/dx = 2x = {dy_dx:.6f}")
print(f"chain rule   dz/dx = {chain:.10f}")
print(f"finite diff. dz/dx = {numeric:.8f}")
agree("chain rule vs finite differences", chain, numeric)

# %% [markdown]
# The differential form says what the derivative is *for*: it predicts the change of $z$ caused by
# a small change of $x$. The prediction $dz \approx 2\cos(1)\,dx$ is a straight-line guess, so it
# misses the real change by a relative amount roughly proportional to $dx$: $15\%$ at
# $dx = 0.1$, $1.1\%$ at $dx = 0.01$, $0.11\%$ at $dx = 0.001$ (ten times smaller for each
# ten times smaller $dx$ once $dx$ is small).

# %%
for dx in (0.1, 0.01, 0.001):
    predicted = chain * dx
    actual = np.sin((x0 + dx) ** 2) - np.sin(x0**2)
    print(
        f"dx = {dx:<6}  predicted dz = {predicted:.8f}  actual dz = {actual:.8f}  "
        f"relative gap {abs(predicted - actual) / abs(actual):.1e}"
    )

# %% [markdown]
# Geometrically $dz/dx$ is the slope of the tangent of $z(x) = \sin(x^2)$ at $x = 1$:

# %%
xs = np.linspace(-0.2, 2.0, 300)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(xs, np.sin(xs**2), lw=2, label=r"$z(x) = \sin(x^2)$")
ax.plot(
    xs,
    np.sin(x0**2) + chain * (xs - x0),
    "--",
    lw=1.5,
    label=f"tangent at x = 1, slope 2 cos 1 = {chain:.4f}",
)
ax.plot([x0], [np.sin(x0**2)], "ko")
ax.set_ylim(-1.3, 1.5)
ax.set_xlabel("x", fontsize=12)
ax.set_ylabel("z", fontsize=12)
ax.set_title("The chain rule gives the slope of the composite function", fontsize=13)
ax.legend(fontsize=11, loc="lower left")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# **Exercise `chain_rule`.** Now $y = x^3$ and $z = \tanh y$. Compute $dz/dx$ at $x = 0.8$. Replace
# `None` with your answer and run the cell: it says whether the answer is right, and if not, what
# the likely bug is.

# %%
x = 0.8  # y = x**3, z = tanh(y)
answer = None  # your code here: dz/dx
check("chain_rule", answer)

# %% [markdown]
# ## 2. Two multivariate forms
#
# **Several intermediate variables.** If $z = z(y_1(x), y_2(x), \dots, y_n(x))$, then $x$ reaches
# $z$ along $n$ paths, and the effects along the paths add:
#
# $$\frac{dz}{dx} = \sum_{i=1}^{n} \frac{\partial z}{\partial y_i}\,\frac{dy_i}{dx}.$$
#
# Example: $y_1 = x^2$, $y_2 = \sin x$, $y_3 = e^{-x}$ and $z = y_1 y_2 + y_3^2$, at $x = 0.7$.
# The three partials are $\partial z/\partial y_1 = y_2$, $\partial z/\partial y_2 = y_1$ and
# $\partial z/\partial y_3 = 2y_3$.

# %%
x0 = 0.7
y = np.array([x0**2, np.sin(x0), np.exp(-x0)])
dz_dyi = np.array([y[1], y[0], 2 * y[2]])
dyi_dx = np.array([2 * x0, np.cos(x0), -np.exp(-x0)])
for i in range(3):
    print(
        f"path through y{i + 1}: dz/dy{i + 1} = {dz_dyi[i]:+.6f}  x  dy{i + 1}/dx = "
        f"{dyi_dx[i]:+.6f}  =  {dz_dyi[i] * dyi_dx[i]:+.6f}"
    )
total = float(dz_dyi @ dyi_dx)
x_arr = np.array([x0])


def z_of_x():
    x = x_arr[0]
    return x**2 * np.sin(x) + np.exp(-x) ** 2


numeric = numerical_gradient(z_of_x, x_arr)[0]
print(f"sum over the paths: {total:.10f}")
print(f"finite difference : {numeric:.8f}")
agree("sum over paths vs finite differences", total, numeric)

# %% [markdown]
# **One intermediate variable, several inputs.** If $z = z(y(x_1, \dots, x_n))$, every input acts
# through the single scalar $y$, so each partial is $\frac{dz}{dy}\frac{\partial y}{\partial x_i}$
# and the gradient is a scalar times a vector:
#
# $$\nabla z = \frac{dz}{dy}\left(\frac{\partial y}{\partial x_1}, \frac{\partial y}{\partial
# x_2}, \dots, \frac{\partial y}{\partial x_n}\right)^{T}.$$
#
# Example: $y = x_1 x_2 + x_3^2$ and $z = \tanh y$ at $x = (0.5, -1, 0.8)$, so
# $\frac{dz}{dy} = 1 - \tanh^2 y$ and $\nabla_x y = (x_2, x_1, 2x_3)^T$.

# %%
xv = np.array([0.5, -1.0, 0.8])
y0 = xv[0] * xv[1] + xv[2] ** 2
grad_chain = (1 - np.tanh(y0) ** 2) * np.array([xv[1], xv[0], 2 * xv[2]])
grad_num = numerical_gradient(lambda: float(np.tanh(xv[0] * xv[1] + xv[2] ** 2)), xv)
print(f"y = {y0:.6f},  dz/dy = {1 - np.tanh(y0) ** 2:.6f}")
show("chain rule  grad z", grad_chain)
show("finite diff grad z", grad_num)
agree("chain rule vs finite differences", grad_chain, grad_num)

# %% [markdown]
# ### "Case 2": one input, two paths
#
# A picture the lectures draw: $x = g(s)$ and $y = h(s)$ both depend on $s$, and
# $z = k(x, y)$ depends on both. A change $\Delta s$ reaches $z$ through $x$ *and* through $y$:
#
# $$\frac{dz}{ds} = \frac{\partial z}{\partial x}\frac{dx}{ds}
# + \frac{\partial z}{\partial y}\frac{dy}{ds}.$$
#
# Take $x = s^2$, $y = e^{s}$, $z = xy$ at $s = 0.5$:
# $\frac{dz}{ds} = y \cdot 2s + x \cdot e^{s}$. The scalar engine `course.graph.Value` computes
# the same number by its backward sweep, and its step-by-step record shows the two contributions
# arriving at $s$ and adding up.

# %%
s = Value(0.5, label="s")
x = s**2
x.label = "x"
y = s.exp()
y.label = "y"
z = x * y
z.label = "z"
z.backward()

by_hand = y.data * 2 * s.data + x.data * np.exp(s.data)
s_arr = np.array([0.5])
numeric = numerical_gradient(lambda: float(s_arr[0] ** 2 * np.exp(s_arr[0])), s_arr)[0]
for step in backward_steps(z):
    print(step.describe())
print(f"\nby hand   dz/ds = {by_hand:.10f}")
print(f"Value     dz/ds = {s.grad:.10f}")
print(f"numerical dz/ds = {numeric:.8f}")
agree("Value vs by hand", s.grad, by_hand, tol=1e-12)
agree("finite differences vs by hand", numeric, by_hand)

# %% [markdown]
# Drawn as a graph (values in green, gradients in red), the node $s$ has two outgoing edges and
# its gradient is the sum of the two red numbers on them:

# %%
draw_graph(z, title="Case 2: s reaches z along two paths, and the gradients add")

# %% [markdown]
# ## 3. The Jacobian matrix
#
# Two functions of two variables,
#
# $$f(x, y) = 3x^2 y, \qquad g(x, y) = 5xy + y^3 .$$
#
# Stack the gradients of the outputs as rows and you get the **Jacobian in numerator layout**
# (one row per output, one column per input, so the numerator of $\partial f/\partial x$ picks
# the row):
#
# $$J = \begin{bmatrix} \nabla f(x, y) \\ \nabla g(x, y) \end{bmatrix}
# = \begin{bmatrix} \frac{\partial f}{\partial x} & \frac{\partial f}{\partial y} \\
# \frac{\partial g}{\partial x} & \frac{\partial g}{\partial y} \end{bmatrix}
# = \begin{bmatrix} 6yx & 3x^2 \\ 5y & 5x + 3y^2 \end{bmatrix}.$$
#
# The **denominator layout** is its transpose: one row per input, one column per output,
#
# $$J^T = \begin{bmatrix} \frac{\partial f}{\partial x} & \frac{\partial g}{\partial x} \\
# \frac{\partial f}{\partial y} & \frac{\partial g}{\partial y} \end{bmatrix}.$$
#
# At $(x, y) = (1, 2)$: $J = \begin{bmatrix} 12 & 3 \\ 10 & 17 \end{bmatrix}$.


# %%
def F(v):
    """(f, g) of the lectures' example at v = (x, y)."""
    x, y = v
    return np.array([3 * x**2 * y, 5 * x * y + y**3])


def jacobian_F(v):
    """Its Jacobian in numerator layout, from the formulas above."""
    x, y = v
    return np.array([[6 * y * x, 3 * x**2], [5 * y, 5 * x + 3 * y**2]])


point = np.array([1.0, 2.0])
J_num_layout = jacobian_F(point)
J_fd = numerical_jacobian(F, point)
show("(f, g) at (1, 2)", F(point))
show("J   (numerator layout)", J_num_layout)
show("J^T (denominator layout)", J_num_layout.T)
show("centred differences", J_fd)
agree("formula vs finite differences", J_num_layout, J_fd)

# %% [markdown]
# The two layouts hold the same numbers; they differ only in which index is the row. A convention
# has to be fixed once and kept: mixing them silently transposes a matrix, which for a square
# Jacobian like this one raises no shape error at all, only wrong numbers (here the off-diagonal
# entries 3 and 10 trade places).

# %% [markdown]
# **Exercise `jacobian`.** Fill in by hand the Jacobian of $F(x, y, z) = (x^2 y,\ yz + e^x)$ at
# $(1, 2, -1)$, in numerator layout, as a numpy array.

# %%
x, y, z = 1.0, 2.0, -1.0  # F(x, y, z) = (x**2 * y, y * z + exp(x)), numerator layout
answer = None  # your code here: Jacobian
check("jacobian", answer)

# %% [markdown]
# ## 4. The general case and the shape of every derivative
#
# For $\mathbf{y} = \mathbf{f}(\mathbf{x})$ with $m$ outputs $y_i = f_i(\mathbf{x})$ and $n$
# inputs, the Jacobian has $m$ rows, one per equation:
#
# $$\frac{\partial \mathbf{y}}{\partial \mathbf{x}} =
# \begin{bmatrix} \nabla f_1(\mathbf{x}) \\ \vdots \\ \nabla f_m(\mathbf{x}) \end{bmatrix} =
# \begin{bmatrix} \frac{\partial f_1}{\partial x_1} & \cdots & \frac{\partial f_1}{\partial x_n}
# \\ \vdots & & \vdots \\ \frac{\partial f_m}{\partial x_1} & \cdots &
# \frac{\partial f_m}{\partial x_n} \end{bmatrix} \in \mathbb{R}^{m \times n},
# \qquad \mathbf{J}_{ij} = \frac{\partial f_i}{\partial x_j}.$$
#
# The four combinations of scalar and vector (numerator layout):
#
# $$\begin{array}{l|ll}
#  & \text{by a scalar } x & \text{by a vector } \mathbf{x} \in \mathbb{R}^n \\ \hline
# \text{scalar } f & \dfrac{\partial f}{\partial x}:\ 1 \times 1
#  & \dfrac{\partial f}{\partial \mathbf{x}}:\ 1 \times n \text{ (a row)} \\[2ex]
# \text{vector } \mathbf{f} \in \mathbb{R}^m & \dfrac{\partial \mathbf{f}}{\partial x}:\
#  m \times 1 \text{ (a column)} & \dfrac{\partial \mathbf{f}}{\partial \mathbf{x}}:\ m \times n
# \end{array}$$
#
# Treating a scalar as a vector of length one, the numerical Jacobian produces all four shapes:

# %%
cases = {
    "scalar f by scalar x  (f = x^3)": (lambda v: v**3, np.array([0.5])),
    "scalar f by vector x  (f = x1 x2 x3)": (lambda v: np.prod(v), np.array([0.5, 1.0, 2.0])),
    "vector f by scalar x  (f = [x, x^2])": (
        lambda v: np.array([v[0], v[0] ** 2]),
        np.array([0.5]),
    ),
    "vector f by vector x  (f = [x1 + x2, x2 x3])": (
        lambda v: np.array([v[0] + v[1], v[1] * v[2]]),
        np.array([0.5, 1.0, 2.0]),
    ),
}
for name, (fn, v) in cases.items():
    print(f"{name:46s} Jacobian shape {numerical_jacobian(fn, v).shape}")

# %% [markdown]
# A gradient of a scalar by a vector is a *row* in numerator layout and a *column* in denominator
# layout. This course stores gradients in the denominator sense: **a gradient has the shape of its
# variable** (`dW` has the shape of `W`, a column `x` gets a column gradient), which is the
# transpose of the numerator-layout row.
#
# ## 5. The Jacobian of a composition is a product of Jacobians
#
# For $\mathbf{f}(\mathbf{g}(\mathbf{x}))$ with $\mathbf{x} \in \mathbb{R}^n$,
# $\mathbf{g} \in \mathbb{R}^k$ and $\mathbf{f} \in \mathbb{R}^m$,
#
# $$\frac{\partial}{\partial \mathbf{x}}\mathbf{f}(\mathbf{g}(\mathbf{x})) =
# \frac{\partial \mathbf{f}}{\partial \mathbf{g}}\,\frac{\partial \mathbf{g}}{\partial \mathbf{x}},
# \qquad (m \times k)(k \times n) = (m \times n).$$
#
# Entry $(i, j)$ of the product is $\sum_{l} \frac{\partial f_i}{\partial g_l}
# \frac{\partial g_l}{\partial x_j}$: the "sum over paths" of section 2, done for every pair of
# an output and an input at once. To see it, feed the example $(f, g)$ above into
# $\mathbf{h}(\mathbf{u}) = (u_1 + u_2,\ u_1 u_2,\ \sin u_1)$, a map from 2 to 3 numbers, whose
# Jacobian is $\begin{bmatrix} 1 & 1 \\ u_2 & u_1 \\ \cos u_1 & 0 \end{bmatrix}$.


# %%
def h(u):
    return np.array([u[0] + u[1], u[0] * u[1], np.sin(u[0])])


def jacobian_h(u):
    return np.array([[1.0, 1.0], [u[1], u[0]], [np.cos(u[0]), 0.0]])


u = F(point)
J_h, J_g = jacobian_h(u), jacobian_F(point)
J_product = J_h @ J_g
J_fd = numerical_jacobian(lambda v: h(F(v)), point)
print(f"shapes: dh/du {J_h.shape} @ du/dx {J_g.shape} = {J_product.shape}")
show("product of the Jacobians", J_product)
show("centred differences of h(F(x, y))", J_fd)
agree("product of Jacobians vs finite differences", J_product, J_fd)

# %% [markdown]
# ### The vector chain rule, worked through
#
# The lectures' example is a vector function of one scalar,
#
# $$\mathbf{y} = \begin{bmatrix} y_1(x) \\ y_2(x) \end{bmatrix} =
# \begin{bmatrix} \ln(x^2) \\ \sin(3x) \end{bmatrix}.$$
#
# Introduce the intermediate vector $\mathbf{g} = (g_1, g_2) = (x^2, 3x)$, so that
# $\mathbf{y} = (\ln g_1, \sin g_2)$. Each $y_i$ depends on its own $g_i$ only, so
# $\partial \mathbf{y}/\partial \mathbf{g}$ is diagonal, and $\partial \mathbf{g}/\partial x$ is a
# column:
#
# $$\frac{\partial \mathbf{y}}{\partial x} =
# \frac{\partial \mathbf{y}}{\partial \mathbf{g}}\frac{\partial \mathbf{g}}{\partial x} =
# \begin{bmatrix} \frac{1}{g_1} & 0 \\ 0 & \cos g_2 \end{bmatrix}
# \begin{bmatrix} 2x \\ 3 \end{bmatrix} =
# \begin{bmatrix} \frac{2x}{x^2} \\ 3\cos(3x) \end{bmatrix} =
# \begin{bmatrix} \frac{2}{x} \\ 3\cos(3x) \end{bmatrix}.$$
#
# At $x = 0.5$: $\mathbf{g} = (0.25, 1.5)$, so the diagonal is $(4, \cos 1.5)$.

# %%
x0 = 0.5
g = np.array([x0**2, 3 * x0])
dy_dg = np.diag([1 / g[0], np.cos(g[1])])
dg_dx = np.array([[2 * x0], [3.0]])
dy_dx = dy_dg @ dg_dx
closed_form = np.array([[2 / x0], [3 * np.cos(3 * x0)]])
J_fd = numerical_jacobian(lambda v: np.array([np.log(v[0] ** 2), np.sin(3 * v[0])]), np.array([x0]))
show("g", g)
show("dy/dg = diag(1/g1, cos g2)", dy_dg)
show("dg/dx", dg_dx)
show("dy/dx = dy/dg @ dg/dx", dy_dx)
show("[2/x, 3 cos 3x]", closed_form)
show("centred differences", J_fd)
agree("vector chain rule vs finite differences", dy_dx, J_fd)

# %% [markdown]
# Over a whole range of $x$ the product of Jacobians and the finite differences lie on top of each
# other:

# %%
grid = np.linspace(0.3, 3.0, 120)
chain_rule = np.array([(np.diag([1 / t**2, np.cos(3 * t)]) @ np.array([2 * t, 3.0])) for t in grid])
marks = grid[::8]
fd = np.array(
    [
        numerical_jacobian(
            lambda v: np.array([np.log(v[0] ** 2), np.sin(3 * v[0])]), np.array([t])
        ).ravel()
        for t in marks
    ]
)
fig, ax = plt.subplots(figsize=(7.5, 4.2))
ax.plot(grid, chain_rule[:, 0], lw=2, label=r"$dy_1/dx = 2/x$ (chain rule)")
ax.plot(grid, chain_rule[:, 1], lw=2, label=r"$dy_2/dx = 3\cos 3x$ (chain rule)")
ax.plot(marks, fd[:, 0], "o", color="C0", mfc="none", label=r"$dy_1/dx$ (finite differences)")
ax.plot(marks, fd[:, 1], "s", color="C1", mfc="none", label=r"$dy_2/dx$ (finite differences)")
ax.set_xlabel("x", fontsize=12)
ax.set_ylabel("derivative", fontsize=12)
ax.set_title(r"Vector chain rule for $\mathbf{y} = [\ln(x^2), \sin(3x)]$", fontsize=13)
ax.legend(fontsize=10, ncol=2, loc="upper right")
ax.set_ylim(-3.5, 8)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 6. The chain rule in machine learning
#
# Training minimises a cost $J = J(\mathbf{g}(\theta))$, where $\theta$ are the parameters and
# $\mathbf{g}(\theta)$ the intermediate quantities (the activations of a network). The chain rule
# reads
#
# $$\nabla_\theta J(\mathbf{g}(\theta)) = \nabla_{\mathbf{g}} J\;
# \frac{\partial \mathbf{g}(\theta)}{\partial \theta}
# = \sum_i \frac{\partial J}{\partial g_i}\,\frac{\partial g_i}{\partial \theta},$$
#
# where $\partial \mathbf{g}/\partial\theta$ is a Jacobian; the second form spells out the
# row-times-matrix product as a sum over the intermediate quantities. A small instance:
# $\theta \in \mathbb{R}^3$, $\mathbf{g} = \tanh(A\theta) \in \mathbb{R}^4$ and
# $J = \frac12\|\mathbf{g} - \mathbf{t}\|^2$, so that $\nabla_{\mathbf{g}} J = (\mathbf{g} -
# \mathbf{t})^T$ and $\partial \mathbf{g}/\partial \theta = \operatorname{diag}(1 - g_i^2)\,A$.

# %%
rng = np.random.default_rng(0)
A = rng.normal(size=(4, 3))
t = rng.normal(size=4)
theta = rng.normal(size=3)


def cost_of_theta():
    return 0.5 * float(np.sum((np.tanh(A @ theta) - t) ** 2))


g = np.tanh(A @ theta)
dJ_dg = g - t  # a row in numerator layout (4 numbers)
dg_dtheta = np.diag(1 - g**2) @ A  # the Jacobian, 4 x 3
as_product = dJ_dg @ dg_dtheta
as_sum = sum(dJ_dg[i] * dg_dtheta[i] for i in range(4))
numeric = numerical_gradient(cost_of_theta, theta)
print(f"J = {cost_of_theta():.6f} (a scalar);  dg/dtheta has shape {dg_dtheta.shape}")
show("row times Jacobian    ", as_product)
show("sum over i of the rows", as_sum)
show("centred differences   ", numeric)
agree("chain rule vs finite differences", as_product, numeric)

# %% [markdown]
# **Exercise `cost_gradient`.** For the cost $J = \frac12\|\tanh(A\theta) - \mathbf{t}\|^2$ of this
# section, with the column $\theta$ below, compute $\nabla_\theta J$ (the shape of $\theta$) as a
# row times a Jacobian, in a line or two of numpy.

# %%
rng = np.random.default_rng(3)
A = rng.normal(size=(4, 3))
t = rng.normal(size=(4, 1))
theta = rng.normal(size=(3, 1))  # J = 0.5 * ||tanh(A @ theta) - t||^2
answer = None  # your code here: gradient of J with respect to theta
check("cost_gradient", answer)

# %% [markdown]
# ## 7. $J$ the cost versus $\mathbf{J}$ the Jacobian
#
# The same letter names two different objects, and it pays to keep them apart.
#
# * **The cost** is a single number. For a network with one hidden layer,
#   $\mathbf{f}(\mathbf{x}; \theta) = \mathbf{b} + V\,\mathrm{sigmoid}(\mathbf{c} + W\mathbf{x})$
#   with $\theta = (\mathbf{b}, \mathbf{c}, V, W)$, the regularised cost on $n$ training pairs
#   $(\mathbf{x}^t, \mathbf{y}^t)$ is
#
#   $$J(\theta) = \lambda\|\omega\|^2 + \frac1n\sum_{t=1}^{n}
#   \left\|\mathbf{y}^t - \left(\mathbf{b} + V\,\mathrm{sigmoid}(\mathbf{c} + W\mathbf{x}^t)
#   \right)\right\|^2,$$
#
#   where $\omega$ collects the weights only, $\|\omega\|^2 = \sum_{ij} W_{ij}^2 + \sum_{ki}
#   V_{ki}^2$ (the offsets $\mathbf{b}, \mathbf{c}$ are not penalised).
# * **The Jacobian** $\mathbf{J}$ of a vector function is a matrix,
#   $\mathbf{J}_{ij} = \partial f_i/\partial x_j$.
#
# Below: 3 inputs, 4 hidden units, 2 outputs, $n = 5$ training pairs and $\lambda = 0.01$.

# %%
n_in, n_hidden, n_out, n, lam = 3, 4, 2, 5, 0.01
rng = np.random.default_rng(1)
W = rng.normal(0, 0.8, size=(n_hidden, n_in))
c = rng.normal(0, 0.5, size=(n_hidden, 1))
V = rng.normal(0, 0.8, size=(n_out, n_hidden))
b = rng.normal(0, 0.5, size=(n_out, 1))
X = rng.normal(size=(n_in, n))  # one training input per column
Y = rng.normal(size=(n_out, n))


def f(X, b, c, V, W):
    """The network's outputs, one column per input column."""
    return b + V @ sigmoid(c + W @ X)


def cost(b, c, V, W):
    """The lectures' regularised cost J(theta): a scalar."""
    omega2 = np.sum(W**2) + np.sum(V**2)
    return lam * omega2 + np.mean(np.sum((Y - f(X, b, c, V, W)) ** 2, axis=0))


print(f"f(X; theta) has shape {f(X, b, c, V, W).shape}: 2 outputs for each of the 5 inputs")
print(f"J(theta) = {cost(b, c, V, W):.6f}: one number for the whole training set")

# %% [markdown]
# One Jacobian of the network is $\partial \mathbf{f}/\partial \mathbf{x}$ at a single input, a
# $2 \times 3$ matrix. With $\mathbf{a} = \mathbf{c} + W\mathbf{x}$ it is a product of three
# Jacobians, $V\,\operatorname{diag}(\mathrm{sigmoid}'(\mathbf{a}))\,W$:

# %%
x1 = X[:, [0]]
a1 = c + W @ x1
J_x = V @ np.diag(sigmoid_prime(a1).ravel()) @ W
J_fd = numerical_jacobian(lambda v: f(v.reshape(-1, 1), b, c, V, W), x1.ravel().copy())
show("df/dx at the first input", J_x)
print(f"shape {J_x.shape}")
agree("V diag(sigmoid'(a)) W vs finite differences", J_x, J_fd)

# %% [markdown]
# The Jacobian with respect to the parameters is wider: $\theta$ holds
# $2 + 4 + 8 + 12 = 26$ numbers, so $\partial\mathbf{f}/\partial\theta$ is $2 \times 26$ for each
# input. Its blocks follow from the chain rule, with $\mathbf{s} = \mathrm{sigmoid}(\mathbf{a})$
# and parameters flattened row by row:
# $\partial \mathbf{f}/\partial \mathbf{b} = I$,
# $\partial \mathbf{f}/\partial \mathbf{c} = V\operatorname{diag}(\mathbf{s}')$,
# $\partial f_k/\partial V_{ij} = [k = i]\, s_j$ and
# $\partial f_k/\partial W_{ij} = V_{ki}\, s'_i\, x_j$.
# (`np.kron` lays those last two out as matrices.)


# %%
def unpack(vec):
    sizes = [
        ("b", (n_out, 1)),
        ("c", (n_hidden, 1)),
        ("V", (n_out, n_hidden)),
        ("W", (n_hidden, n_in)),
    ]
    out, i = {}, 0
    for name, shape in sizes:
        k = int(np.prod(shape))
        out[name] = vec[i : i + k].reshape(shape)
        i += k
    return out


theta = np.concatenate([b.ravel(), c.ravel(), V.ravel(), W.ravel()])


def jacobian_theta(x):
    """df/dtheta (2 x 26) at one input column x, blocks in the order b, c, V, W."""
    a = c + W @ x
    s, ds = sigmoid(a), sigmoid_prime(a)
    Vd = V * ds.T  # V diag(s')
    return np.hstack([np.eye(n_out), Vd, np.kron(np.eye(n_out), s.T), np.kron(Vd, x.T)])


J_theta = jacobian_theta(x1)
J_fd = numerical_jacobian(lambda v: f(x1, **unpack(v)), theta.copy())
print(f"theta has {theta.size} numbers; df/dtheta at one input has shape {J_theta.shape}")
agree("block formulas vs finite differences", J_theta, J_fd)

# %% [markdown]
# The gradient of the cost is a different object: it has one entry per parameter, the shape of
# $\theta$. The chain rule of section 6 builds it from the Jacobians: for each training pair the
# row $\nabla_{\mathbf{f}} \|\mathbf{y}^t - \mathbf{f}\|^2 = -2(\mathbf{y}^t - \mathbf{f})^T$
# times the $2 \times 26$ Jacobian, averaged, plus $2\lambda\omega$ from the penalty.
#
# The package's `MLP` computes the same gradient by backprop. Its cost uses *half* the squared
# error and the penalty `l2 * sum ||W||^2`, so with `l2 = lambda / 2` its cost is exactly half of
# $J$, and twice its gradients must match.

# %%
grad = np.zeros_like(theta)
for col in range(n):
    xt, yt = X[:, [col]], Y[:, [col]]
    grad += (-2 * (yt - f(xt, b, c, V, W))).ravel() @ jacobian_theta(xt) / n
penalty = unpack(np.zeros_like(theta))  # the same layout, filled below
penalty["V"][...] = 2 * lam * V
penalty["W"][...] = 2 * lam * W
grad += np.concatenate([penalty[k].ravel() for k in ("b", "c", "V", "W")])

theta_var = theta.copy()
numeric = numerical_gradient(lambda: cost(**unpack(theta_var)), theta_var)

net = MLP([n_in, n_hidden, n_out], hidden="sigmoid", output="identity", loss="half_sse", l2=lam / 2)
net.params.update(W1=W.copy(), b1=c.copy(), W2=V.copy(), b2=b.copy())
g_net = net.gradients(X, Y)
from_net = 2 * np.concatenate([g_net[k].ravel() for k in ("b2", "b1", "W2", "W1")])

print(f"J(theta) = {cost(b, c, V, W):.6f},  2 x MLP cost = {2 * net.loss(X, Y):.6f}")
print(f"gradient of J has shape {grad.shape} (the shape of theta), not a matrix")
show("first 6 entries, Jacobian route ", grad[:6])
show("first 6 entries, 2 x MLP backprop", from_net[:6])
agree("Jacobian route vs finite differences", grad, numeric)
agree("Jacobian route vs MLP backprop", grad, from_net, tol=1e-12)

# %% [markdown]
# ### Why backprop multiplies from the left
#
# For a deep network the gradient of the scalar cost is a long product: a row
# $\mathbf{g}^T = \nabla_{\hat{\mathbf{y}}} J$ ($1 \times n$) times one Jacobian per layer,
#
# $$\nabla_\theta J = \mathbf{g}^T\, M_L\, M_{L-1} \cdots M_1 .$$
#
# Matrix multiplication is associative, so any order gives the same numbers, but not the same
# work. Multiplying an $a \times b$ matrix by a $b \times c$ one costs $abc$ multiply-adds. With
# $L$ square $n \times n$ Jacobians:
#
# * **from the right** (forming the full Jacobian $M_L \cdots M_1$ first): $L - 1$ matrix-matrix
#   products and one row-matrix product, $(L - 1)\,n^3 + n^2$;
# * **from the left** (backprop: always a row times a matrix, a *vector-Jacobian product*):
#   $L$ row-matrix products, $L\,n^2$.
#
# The row never grows, because the cost is a scalar; that is why backprop wins by a factor of
# about $n$.


# %%
def multiply_adds(shapes, order):
    """Multiply-adds to evaluate the chain product of matrices with these shapes.

    order "left": ((A1 A2) A3) ...; order "right": ... (A_{k-1} (A_k A_{k+1})).
    """
    shapes = list(shapes)
    total = 0
    if order == "left":
        rows, inner = shapes[0]
        for r, cols in shapes[1:]:
            assert r == inner, "shapes do not chain"
            total += rows * inner * cols
            inner = cols
    else:
        inner, cols = shapes[-1]
        for rows, r in reversed(shapes[:-1]):
            assert r == inner, "shapes do not chain"
            total += rows * inner * cols
            inner = rows
    return total


for width, depth in [(10, 5), (100, 5), (1000, 5), (1000, 20)]:
    chain_shapes = [(1, width)] + [(width, width)] * depth
    left = multiply_adds(chain_shapes, "left")
    right = multiply_adds(chain_shapes, "right")
    assert left == depth * width**2 and right == (depth - 1) * width**3 + width**2
    print(
        f"n = {width:5d}, L = {depth:2d}:  from the left {left:>15,}   "
        f"from the right {right:>19,}   ratio {right / left:8.1f}"
    )

# %% [markdown]
# A network's Jacobians are not square. For a 784-256-256-10 classifier the chain is
# $\mathbf{g}^T$ ($1 \times 10$), then $W^{[3]}$ ($10 \times 256$),
# $\operatorname{diag}(f'(\mathbf{z}^{[2]}))$ ($256 \times 256$), $W^{[2]}$, the second
# diagonal, and $W^{[1]}$ ($256 \times 784$), giving the gradient with respect to the input
# (the parameter gradients branch off this chain layer by layer). Counting the diagonals as dense
# matrices, to be fair to both orders:

# %%
chain_shapes = [(1, 10), (10, 256), (256, 256), (256, 256), (256, 256), (256, 784)]
left = multiply_adds(chain_shapes, "left")
right = multiply_adds(chain_shapes, "right")
print(f"from the left : {left:>12,} multiply-adds")
print(f"from the right: {right:>12,} multiply-adds  ({right / left:.0f} times more)")

# %% [markdown]
# Both orders give the same vector, of course:

# %%
rng = np.random.default_rng(2)
mats = [rng.normal(size=s) / np.sqrt(s[0]) for s in chain_shapes]
v_left = mats[0]
for M in mats[1:]:
    v_left = v_left @ M
full = mats[-1]
for M in reversed(mats[1:-1]):
    full = M @ full
v_right = mats[0] @ full
print(f"result shape {v_left.shape}")
agree("from the left vs from the right", v_left, v_right, tol=1e-12)

# %% [markdown]
# The counts turn into time. (The times below depend on the machine; only their ratio matters.)


# %%
# NBVAL_IGNORE_OUTPUT
def best_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def from_left():
    v = mats[0]
    for M in mats[1:]:
        v = v @ M
    return v


def from_right():
    full = mats[-1]
    for M in reversed(mats[1:-1]):
        full = M @ full
    return mats[0] @ full


t_left, t_right = best_time(from_left), best_time(from_right)
print(
    f"from the left {t_left * 1e3:.3f} ms, from the right {t_right * 1e3:.3f} ms, "
    f"ratio {t_right / t_left:.0f}"
)

# %% [markdown]
# And the counts grow very differently with the width of the layers:

# %%
widths = np.array([10, 20, 50, 100, 200, 500, 1000, 2000])
depth = 5
left_counts = [multiply_adds([(1, w)] + [(w, w)] * depth, "left") for w in widths]
right_counts = [multiply_adds([(1, w)] + [(w, w)] * depth, "right") for w in widths]
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.loglog(widths, left_counts, "o-", lw=2, label=r"from the left (backprop): $L n^2$")
ax.loglog(
    widths, right_counts, "s-", lw=2, label=r"from the right (full Jacobian): $(L-1)n^3 + n^2$"
)
ax.set_xlabel("layer width n", fontsize=12)
ax.set_ylabel("multiply-adds", fontsize=12)
ax.set_title(f"Cost of a gradient through L = {depth} square Jacobians", fontsize=13)
ax.legend(fontsize=11)
ax.grid(alpha=0.3, which="both")
plt.show()

# %% [markdown]
# ## Check yourself
#
# **1.** A function maps $\mathbb{R}^5$ to $\mathbb{R}^3$. What is the shape of its Jacobian in
# numerator layout, and in denominator layout?
#
# <details><summary>Answer</summary>
#
# Numerator layout: one row per output, $3 \times 5$. Denominator layout: the transpose,
# $5 \times 3$.
#
# </details>
#
# **2.** Take case 2 with $x = \cos s$, $y = \sin s$ and $z = x^2 + y^2$. Compute $dz/ds$ from the
# two paths. Why is the answer obvious once you simplify $z$?
#
# <details><summary>Answer</summary>
#
# $\frac{dz}{ds} = 2x\cdot(-\sin s) + 2y\cdot\cos s = -2\cos s\sin s + 2\sin s\cos s = 0$.
# The two paths cancel exactly, as they must: $z = \cos^2 s + \sin^2 s = 1$ does not depend on
# $s$.
#
# </details>
#
# **3.** Evaluate the vector chain rule example $\mathbf{y} = [\ln(x^2), \sin(3x)]$ at
# $x = \pi/6$. What are $\mathbf{g}$, $\partial\mathbf{y}/\partial\mathbf{g}$ and
# $d\mathbf{y}/dx$?
#
# <details><summary>Answer</summary>
#
# $\mathbf{g} = (\pi^2/36, \pi/2)$, $\partial\mathbf{y}/\partial\mathbf{g} =
# \operatorname{diag}(36/\pi^2, \cos(\pi/2)) = \operatorname{diag}(36/\pi^2, 0)$, and
# $d\mathbf{y}/dx = (2/x, 3\cos(3x)) = (12/\pi, 0) \approx (3.8197, 0)$: at this point
# $\sin(3x)$ sits at its maximum, so its slope is zero.
#
# </details>
#
# **4.** The gradient of a scalar cost passes through 10 Jacobians of size
# $1000 \times 1000$. How many multiply-adds does backprop need, and how many does forming the
# full Jacobian first need?
#
# <details><summary>Answer</summary>
#
# From the left: $10 \cdot 1000^2 = 10^7$. From the right: $9 \cdot 1000^3 + 1000^2 \approx
# 9 \cdot 10^9$, about 900 times more.
#
# </details>
#
# **5.** In section 7, which of these is a matrix and which a vector: $\partial
# \mathbf{f}/\partial\theta$ at one input, and $\nabla_\theta J$? What are their shapes?
#
# <details><summary>Answer</summary>
#
# $\partial\mathbf{f}/\partial\theta$ is a Jacobian, a $2 \times 26$ matrix (2 outputs, 26
# parameters). $\nabla_\theta J$ is the gradient of the scalar cost: 26 numbers, the shape of
# $\theta$ (stored as the arrays `b`, `c`, `V`, `W` with their own shapes).
#
# </details>
#
# ## Summary
#
# - Scalar chain rule: $\frac{dz}{dx} = \frac{dz}{dy}\frac{dy}{dx}$; with several intermediate
#   variables the contributions of the paths **add**; with several inputs the gradient is
#   $\frac{dz}{dy}\nabla_x y$.
# - The Jacobian of $\mathbf{f}: \mathbb{R}^n \to \mathbb{R}^m$ is $m \times n$ in numerator
#   layout ($\mathbf{J}_{ij} = \partial f_i/\partial x_j$) and its transpose in denominator layout;
#   for $f = 3x^2y$, $g = 5xy + y^3$ it is $[[6yx, 3x^2], [5y, 5x + 3y^2]]$.
# - The Jacobian of a composition is the product of the Jacobians; for
#   $[\ln(x^2), \sin(3x)]$ that gives $\operatorname{diag}(1/g_1, \cos g_2)\,[2x, 3]^T = [2/x,
#   3\cos 3x]$.
# - In a network, $\nabla_\theta J = \sum_i \frac{\partial J}{\partial g_i}
#   \frac{\partial g_i}{\partial\theta}$. The cost $J$ is a scalar, its gradient has the shape of
#   $\theta$, and a Jacobian is a matrix.
# - Backprop evaluates the product from the left, a vector-Jacobian product at every step:
#   $L n^2$ instead of about $L n^3$ operations.
#
# **Next:** [02 · Computational graphs](02_computational_graphs.ipynb) turns the chain rule into an
# algorithm on a graph of simple operations.
