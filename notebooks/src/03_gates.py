# %% [markdown]
# # 03 · Gates
#
# In a computational graph every operation is a **gate**: it takes its inputs, computes its
# output, and during the backward sweep receives the upstream gradient and hands each input
# "local gradient × upstream gradient". Each kind of gate does this in a characteristic way, and
# once you know the handful of patterns you can read the gradient off a graph at a glance. This
# notebook goes through them, collapses the sigmoid into a single gate, looks at the tanh gate in
# its flat region, and ends with the gate objects an implementation is built from.
#
# Prepares for problem set 1 (ps1, computational graphs), with notebooks 01 and 02, and for
# problem set 6 (ps6, your own autograd engine), which builds on them and on problem set 1. The
# exercises in the text check your answer when you run their cell; after trying,
# `solution("name")` prints a worked answer.
#
# ## What you will be able to do
#
# - predict what the add, multiply and max gates send to each input, and what happens at a
#   branch;
# - differentiate the common one-input gates ($e^x$, $ax$, $1/x$, $x + C$) from a table;
# - replace the four gates of the sigmoid by one gate with local gradient $f(1 - f)$, and show
#   that the gradients do not change;
# - compute the local gradient of a tanh gate, $1 - f^2$, and explain why it nearly vanishes at
#   $z = 4$;
# - write a gate as an object with `forward()` and `backward()` methods.

# %%
import math

import ipywidgets as W
import numpy as np

from course import gates
from course.exercises import check, solution
from course.graph import Value, backward_steps, topological_order
from course.viz import draw_graph
from course.widgets import interactive_figure, show


def inputs(root):
    """The leaves below root, by label."""
    return {v.label: v for v in topological_order(root) if not v.parents}


# %% [markdown]
# `gates.gate_example(gate, a, b, upstream)` builds one gate on the inputs $a$ and $b$ and
# delivers the gradient `upstream` to its output, as if the gate sat inside a larger graph whose
# backward sweep had arrived there. `gates.gate_figure` draws it (values green, gradients red)
# and states the gate's rule with the numbers. `show` displays both.
#
# ## The add gate distributes
#
# $f = a + b$ has $\partial f/\partial a = \partial f/\partial b = 1$, so both inputs receive
# the upstream gradient unchanged: the add gate **distributes** the same gradient to all of its
# inputs. In $(x + y) z$ at $x = -2$, $y = 5$, $z = -4$ of the previous notebook, the add gate
# received $-4$ and passed $-4$ to both $x$ and $y$:

# %%
show(gates.gate_figure("add", -2.0, 5.0, upstream=-4.0))

# %% [markdown]
# ## The multiply gate switches
#
# $f = a b$ has $\partial f/\partial a = b$ and $\partial f/\partial b = a$: each input receives
# the **other** input times the upstream gradient. The gate (cross-)switches its inputs. The
# multiply gate of $(x + y) z$ has inputs $q = 3$ and $z = -4$ and upstream gradient 1, so $q$
# gets $-4$ and $z$ gets $3$:

# %%
show(gates.gate_figure("multiply", 3.0, -4.0, upstream=1.0))

# %% [markdown]
# A consequence worth remembering: if one input is large, the *other* one receives a large
# gradient. In a neuron $w x$, the scale of the data $x$ sets the scale of the gradient on the
# weight $w$, one reason inputs are normalised before training.
#
# ## The max gate routes
#
# $f = \max(a, b)$ has local gradient 1 for the larger input and 0 for the other: the whole
# upstream gradient is **routed** to the input that won, and the other gets nothing (it did not
# influence the output).

# %%
show(gates.gate_figure("max", 2.0, -1.0, upstream=2.0))

# %% [markdown]
# At a tie, $a = b$, $\max$ has no derivative: the one-sided derivatives disagree. Some choice
# has to be made; **the course's engine splits the upstream gradient half-half** between the
# two inputs (the average of the two one-sided derivatives). Other libraries may pick
# differently, for example send everything to the first input. Ties are rare with real-valued
# data, but they happen with ReLU, $\max(0, z)$, at $z = 0$, where the engine uses local
# gradient 0.

# %%
show(gates.gate_figure("max", 1.5, 1.5, upstream=2.0))

# %% [markdown]
# **Exercise `max_gate`.** Route the gradient of $f = \max(x, y)\, z$ at $x = 3$, $y = 1$, $z = -2$
# to all three inputs. Replace `None` with your answer and run the cell: it says whether the answer
# is right, and if not, what the likely bug is.

# %%
x, y, z = 3.0, 1.0, -2.0  # f = max(x, y) * z
answer = None  # your code here: [df/dx, df/dy, df/dz]
check("max_gate", answer)

# %% [markdown]
# ## At branches, gradients add
#
# When a variable feeds several gates, it influences the output along several paths, and its
# gradient is the **sum** of what comes back along each (the multivariate chain rule, or the
# sum over children in Algorithm 4). In $f = a b + a$, the input $a$ feeds the multiply gate and
# the add gate:
# $$\frac{\partial f}{\partial a} = \underbrace{b \cdot u}_{\text{via } \times}
# + \underbrace{1 \cdot u}_{\text{direct}}, \qquad u = \text{upstream}.$$
# At $a = 2$, $b = 3$, $u = 1$ that is $3 + 1 = 4$. The drawing shows each edge's share and
# their sum $\Sigma$ next to $a$:

# %%
show(gates.gate_figure("branch", 2.0, 3.0, upstream=1.0))

# %% [markdown]
# The four patterns, checked against their formulas at a few random-looking points (the values
# are fixed, so the output is the same on every run):

# %%
rules = {
    "add": lambda a, b, u: (u, u),
    "multiply": lambda a, b, u: (b * u, a * u),
    "max": lambda a, b, u: (u, 0.0) if a > b else ((0.0, u) if a < b else (u / 2, u / 2)),
    "branch": lambda a, b, u: (b * u + u, a * u),
}
points = [(0.7, -1.2, 2.0), (-2.5, 0.4, -0.5), (1.5, 1.5, 3.0)]
print("gate       a      b   upstream |  da engine  db engine |  da rule  db rule")
for gate, rule in rules.items():
    for a, b, u in points:
        ins = inputs(gates.gate_example(gate, a, b, upstream=u))
        da, db = rule(a, b, u)
        ga, gb = ins["a"].grad + 0.0, ins["b"].grad + 0.0  # + 0.0 prints -0.0 as 0.000
        assert math.isclose(ga, da) and math.isclose(gb, db)
        print(
            f"{gate:<8} {a:5.1f}  {b:5.1f}  {u:6.1f}    | {ga:9.3f}  {gb:9.3f} | "
            f"{da + 0.0:8.3f} {db + 0.0:8.3f}"
        )

# %% [markdown]
# **Exercise `branches_add`.** $x$ feeds two edges of $q = x + y$, $f = qx$. Give
# $[\partial f/\partial x, \partial f/\partial y]$ at $x = 2$, $y = -1$.

# %%
x, y = 2.0, -1.0  # q = x + y, f = q * x
answer = None  # your code here: [df/dx, df/dy]
check("branches_add", answer)

# %% [markdown]
# ## A table of local derivatives
#
# The one-input gates of the sigmoid example need only four derivatives:
#
# | gate $f(x)$ | local gradient $df/dx$ |
# | --- | --- |
# | $e^x$ | $e^x$ |
# | $a x$ (constant $a$) | $a$ |
# | $1/x$ | $-1/x^2$ |
# | $x + C$ (constant $C$) | $1$ |
#
# The engine stores each gate's local gradient on the node (`.local_grads`) when it computes
# the gate's value. Here they are at the points the sigmoid neuron visits ($e^x$ at $-1.5$,
# $ax$ with $a = -1$, $1/x$ at $1 + e^{-1.5} = 1.2231$, $x + 1$):

# %%
z = 1.5
rows = [
    ("e^x  at x = -1.5", Value(-z).exp(), math.exp(-z)),
    ("a x  with a = -1", Value(z) * -1, -1.0),
    ("1/x  at x = 1.2231", 1 / Value(1 + math.exp(-z)), -1 / (1 + math.exp(-z)) ** 2),
    ("x + C with C = 1", Value(math.exp(-z)) + 1, 1.0),
]
print("gate                 op     engine local   table")
for text, node, table in rows:
    print(f"{text:<20} {node.op:<5} {node.local_grads[0]:12.4f}   {table:8.4f}")
    assert math.isclose(node.local_grads[0], table, rel_tol=1e-15)

# %% [markdown]
# ## The sigmoid gate
#
# The four gates $\times(-1)$, $\exp$, $+1$, $1/x$ after the weighted sum compute one function,
# the sigmoid $\sigma(x) = 1/(1 + e^{-x})$, and its derivative is remarkably simple:
# $$\frac{d\sigma}{dx} = \frac{e^{-x}}{(1 + e^{-x})^2}
# = \frac{1 + e^{-x} - 1}{1 + e^{-x}} \cdot \frac{1}{1 + e^{-x}}
# = \bigl(1 - \sigma(x)\bigr)\,\sigma(x).$$
# So the sigmoid can be **one gate** with local gradient $f(1 - f)$, computed from its own
# output. On the slides, at $z = w_0 x_0 + b = 1.5$ with $f \approx 0.82$:
# $0.82 \times (1 - 0.82) = 0.1476 \approx 0.15$. The exact value is a little larger, because
# the slide rounded $f = 0.8176$ up to $0.82$ before multiplying:

# %%
f = 1 / (1 + math.exp(-z))
print(f"slide: 0.82 x (1 - 0.82)       = {0.82 * (1 - 0.82):.4f}  (~ 0.15)")
print(f"exact: sigma(1.5)(1 - sigma(1.5)) = {f * (1 - f):.4f}  (sigma(1.5) = {f:.4f})")
print(f"exact, other form: e^-1.5 / (1 + e^-1.5)^2 = {math.exp(-z) / (1 + math.exp(-z)) ** 2:.4f}")

# %% [markdown]
# Collapsing the gates changes the graph, not the gradients. Build the neuron with the sigmoid
# as one gate and compare with the gate-by-gate graph of the previous notebook (same inputs,
# back-solved there from the slides' numbers):

# %%
w0, x0, b = Value(-2.0, label="w0"), Value(3.0, label="x0"), Value(7.5, label="b")
collapsed = (w0 * x0 + b).sigmoid()
collapsed.label = "f"
collapsed.backward()

by_gates = gates.worked_example("sigmoid neuron")
by_gates.backward()
fine = inputs(by_gates)
print("input   one sigmoid gate   gate by gate")
for leaf in (w0, x0, b):
    print(f"{leaf.label:<5}   {leaf.grad:16.4f}   {fine[leaf.label].grad:12.4f}")
    assert math.isclose(leaf.grad, fine[leaf.label].grad, rel_tol=1e-12)
print(
    f"edges in the sweep: {len(backward_steps(collapsed))} instead of "
    f"{len(backward_steps(by_gates))}"
)

# %%
show(draw_graph(collapsed, title="The sigmoid as one gate: local gradient f(1 - f)"))

# %% [markdown]
# Where the gates are grouped is a matter of convenience: a gate is worth having when its
# local gradient is simple. The sigmoid's is one multiplication on a value the forward pass has
# already computed.

# %% [markdown]
# **Exercise `sigmoid_gate`.** Four sigmoid gates $s = \sigma(z)$ receive these upstream gradients.
# What does each send back to its input $z$? (One numpy expression, element by element.)

# %%
z = np.array([-2.0, 0.0, 1.5, 4.0])
upstream = np.array([1.0, 2.0, -1.0, 0.5])  # dL/ds for s = sigmoid(z)
answer = None  # your code here: gradient dL/dz
check("sigmoid_gate", answer)

# %% [markdown]
# ## The tanh gate, and a gradient that nearly vanishes
#
# $f(z) = \tanh z = \dfrac{e^z - e^{-z}}{e^z + e^{-z}} = \dfrac{2}{1 + e^{-2z}} - 1$ takes
# values in $(-1, 1)$, and its local gradient is again a function of its output:
# $f'(z) = 1 - f(z)^2$. At $z = 4$ the slides compute
# $1 - 0.9993^2 = 0.00139951 \approx 0.0014$. The exact value is $1 - \tanh(4)^2$:

# %%
t = math.tanh(4.0)
print(f"slide: 1 - 0.9993^2      = {1 - 0.9993**2:.8f}  (~ 0.0014)")
print(f"exact: 1 - tanh(4)^2     = {1 - t * t:.8f}  (tanh(4) = {t:.8f})")
print(f"engine: Value(4).tanh()  local gradient {Value(4.0).tanh().local_grads[0]:.8f}")
print(f"relative difference slide/exact: {(1 - 0.9993**2) / (1 - t * t) - 1:+.1%}")

# %% [markdown]
# Rounding $\tanh 4 = 0.99933$ to four decimals changes the gradient by 4 %: near saturation the
# gradient $1 - f^2$ is the difference of two nearly equal numbers, so every digit of $f$
# matters. More importantly, the gate passes back only 0.0013 of the upstream gradient: a
# saturated tanh (or sigmoid) unit all but stops the gradient. That is the vanishing-gradient
# problem of the next notebook.

# %%
show(gates.gate_figure("tanh", 4.0, upstream=1.0))

# %% [markdown]
# ## Try the gates yourself
#
# Pick a gate and move the inputs and the upstream gradient. The one-input gates (sigmoid, tanh,
# exp, reciprocal) ignore $b$; the reciprocal gate is undefined at $a = 0$ and says so. (In a
# static viewer you see the first view: the multiply gate at $a = 2$, $b = 3$.)

# %%
interactive_figure(
    gates.gate_figure,
    title="How a gate routes the gradient",
    gate=W.Dropdown(options=list(gates.GATES), value="multiply", description="gate"),
    a=W.FloatSlider(value=2.0, min=-3.0, max=3.0, step=0.1, description="a"),
    b=W.FloatSlider(value=3.0, min=-3.0, max=3.0, step=0.1, description="b"),
    upstream=W.FloatSlider(value=1.0, min=-3.0, max=3.0, step=0.1, description="upstream"),
)

# %% [markdown]
# ## Gates as objects: forward() and backward()
#
# Libraries implement exactly this picture. They keep the graph, and every node is a gate
# object with two methods:
#
# - `forward()` computes the output from the inputs and keeps whatever the backward pass will
#   need;
# - `backward()` takes the upstream gradient and returns the gradient for each input, applying
#   the chain rule locally.
#
# The course's engine does the same in compact form. Each node knows its gate (`.op`), its
# inputs (`.parents`) and, saved in the forward pass, its local gradients (`.local_grads`). For
# $x y + z$:

# %%
ex = gates.worked_example("x*y + z")
for node in reversed(topological_order(ex)):
    if node.parents:
        names = [p.label or f"[{p.op}]" for p in node.parents]
        grads = ", ".join(f"{g:.1f}" for g in node.local_grads)
        print(f"op {node.op!r:<4} parents {names!s:<12} local_grads ({grads})")

# %% [markdown]
# Written as explicit classes, the two gates of $x y + z$ are a few lines each. Running them by
# hand, forward in order and backward in reverse, gives the engine's gradients:


# %%
class MultiplyGate:
    def forward(self, a, b):
        self.a, self.b = a, b  # saved for backward
        return a * b

    def backward(self, upstream):
        return self.b * upstream, self.a * upstream  # switch the inputs


class AddGate:
    def forward(self, a, b):
        return a + b

    def backward(self, upstream):
        return upstream, upstream  # distribute


mul, add = MultiplyGate(), AddGate()
h = mul.forward(2.0, 3.0)
out = add.forward(h, -2.0)
dh, dz = add.backward(1.0)
dx, dy = mul.backward(dh)
print(f"gate objects: f = {out:.1f}, df/dx = {dx:.1f}, df/dy = {dy:.1f}, df/dz = {dz:.1f}")

ex.backward()
engine = inputs(ex)
print(
    f"engine:       f = {ex.data:.1f}, df/dx = {engine['x'].grad:.1f}, "
    f"df/dy = {engine['y'].grad:.1f}, df/dz = {engine['z'].grad:.1f}"
)
assert (out, dx, dy, dz) == (ex.data, engine["x"].grad, engine["y"].grad, engine["z"].grad)

# %% [markdown]
# ## Check yourself
#
# **1.** A max gate has inputs $a = 2$, $b = 5$ and receives upstream gradient $3$. What does
# each input receive? And a multiply gate with the same numbers?
#
# <details><summary>Answer</summary>
#
# Max routes everything to the larger input: $a$ gets $0$, $b$ gets $3$. Multiply switches:
# $a$ gets $b \times 3 = 15$, $b$ gets $a \times 3 = 6$.
# Check: `gates.gate_example("max", 2, 5, 3)` and `gates.gate_example("multiply", 2, 5, 3)`.
#
# </details>
#
# **2.** What is the gradient of $f = x \cdot x$ at $x = 3$, read as a branch?
#
# <details><summary>Answer</summary>
#
# $x$ feeds both inputs of one multiply gate. Each edge carries "the other input times
# upstream" $= 3 \times 1$, and at the branch the two add: $3 + 3 = 6 = 2x$. The engine draws the
# two parallel edges with their shares and $\Sigma$ 6.00:
# `x = Value(3.0); f = x * x; f.backward(); x.grad`.
#
# </details>
#
# **3.** What is the largest local gradient a sigmoid gate can have, and where? What does that
# mean for a chain of ten sigmoid gates?
#
# <details><summary>Answer</summary>
#
# $f(1 - f)$ is largest at $f = 1/2$, i.e. $z = 0$, where it is $1/4$. Through ten sigmoid gates
# the gradient is multiplied by at most $(1/4)^{10} \approx 10^{-6}$ (and by the weights in
# between), so it shrinks geometrically.
#
# </details>
#
# **4.** The slides give $0.1476$ for the sigmoid's local gradient at $z = 1.5$ and
# $0.00139951$ for tanh's at $z = 4$. Why does the first differ from the exact value by about
# 1 % and the second by about 4 %?
#
# <details><summary>Answer</summary>
#
# Both round the gate's output before using it: $\sigma(1.5) = 0.8176 \to 0.82$ and
# $\tanh 4 = 0.99933 \to 0.9993$. $f(1 - f)$ reacts mildly to a change in $f$ near $0.8$, but
# $1 - f^2$ near $f = 1$ is a small difference of nearly equal numbers, so a change of $0.00003$
# in $f$ moves it by about $2 \times 0.00003 = 0.00006$, which is 4 % of $0.0013$.
#
# </details>
#
# ## Summary
#
# - Add **distributes**: every input receives the upstream gradient.
# - Multiply **switches**: each input receives the other input times the upstream gradient.
# - Max **routes**: the larger input receives everything, the other nothing; on a tie the
#   course's engine splits it half-half.
# - At **branches** gradients add: a variable used several times sums what comes back along each
#   use.
# - One-input gates multiply by their local derivative: $e^x \to e^x$, $ax \to a$,
#   $1/x \to -1/x^2$, $x + C \to 1$; the sigmoid as one gate has $f(1 - f)$
#   ($0.1491$ at $z = 1.5$, $0.1476$ on the slides), tanh has $1 - f^2$ ($0.00134$ at $z = 4$,
#   $0.0014$ on the slides) and gives the same gradients as its gates.
# - Implementations keep a graph of gate objects with `forward()` (compute, save what is
#   needed) and `backward()` (local gradient × upstream, per input).
#
# Next: [04 · Activation functions](04_activations.ipynb), the gates of a neural network and
# how their gradients behave through depth.
