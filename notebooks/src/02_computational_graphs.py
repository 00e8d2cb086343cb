# %% [markdown]
# # 02 · Computational graphs
#
# A network, a loss, any formula at all: each is evaluated as a sequence of small operations,
# and that sequence is a graph. On the graph, computing a value (the forward pass) and computing
# every derivative of it (the backward pass, backpropagation) become two loops over the nodes,
# one forwards and one backwards. This notebook writes both loops by hand, checks them against
# the scalar engine `course.graph`, works the three examples of the lectures number by number,
# and measures what a backward sweep costs.
#
# Prepares for problem set 1 (ps1, computational graphs), with notebooks 01 and 03, and for
# problem set 6 (ps6, your own autograd engine), which builds on them and on problem set 1. The
# exercises in the text check your answer when you run their cell; after trying,
# `solution("name")` prints a worked answer.
#
# ## What you will be able to do
#
# - turn a formula into a computational graph: nodes, operations, edges and a partial order;
# - run Algorithm 3 (forward) and Algorithm 4 (backward) on a graph by hand;
# - tell a direct partial derivative from a total derivative that sums over several paths;
# - backpropagate through $x y + z$, $(x + y) z$ and a sigmoid neuron with the rule
#   "local gradient $\times$ upstream gradient", reproducing every number of the slides;
# - explain why one backward sweep gives the gradient for all inputs at once, at a cost
#   proportional to the number of edges.

# %%
import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from course import gates
from course.exercises import check, solution
from course.graph import Value, backward_steps, edges, topological_order
from course.viz import draw_graph
from course.widgets import interactive_figure, show


def numbering(root):
    """Number the nodes below root u1, u2, ... in the order they were created."""
    return {v: i + 1 for i, v in enumerate(reversed(topological_order(root)))}


def name(v, number):
    """A node's label if it has one, otherwise u<i>."""
    return v.label or f"u{number[v]}"


# %% [markdown]
# ## Nodes, operations, edges
#
# - A **node** holds a variable. Here every variable is a scalar; the same picture works for
#   vectors, matrices and tensors.
# - An **operation** is a simple function of one or more variables: $+$, $\times$, $e^x$,
#   $1/x$, ...
# - If $y$ is computed by applying an operation to $x$, there is a **directed edge** from $x$
#   to $y$.
#
# Write the nodes $u_1, \dots, u_n$. Each node is computed from nodes that come before it:
# $u_i = f_i(\mathbf{a}^i)$, where the argument list $\mathbf{a}^i = (u_j)_{j \in
# \mathrm{parents}(i)}$ holds only nodes with $j < i$. This **partial order** says in which order
# the computation may proceed. (It is partial: in $x y + z$ it does not matter whether $z$ or
# $x y$ comes first, only that both come before the sum.)
#
# `course.graph.Value` builds such a graph while you compute. Each result remembers its
# operation (`.op`), its argument list (`.parents`) and its value (`.data`).
# `topological_order(f)` lists every node below `f`, latest first; reversed, it is
# $u_1, \dots, u_n$.

# %%
x, y, z = Value(2.0, label="x"), Value(3.0, label="y"), Value(-2.0, label="z")
h = x * y
f = h + z
h.label, f.label = "h", "f"

number = numbering(f)
print(" i   node   op   value   parents")
for v in reversed(topological_order(f)):
    parents = ", ".join(name(p, number) for p in v.parents) or "-"
    print(f"u{number[v]}   {name(v, number):>4}   {v.op or 'in':>2}   {v.data:5.1f}   {parents}")

# %% [markdown]
# The inputs $x, y, z$ are the first $m = 3$ nodes and the output $f$ is the last, $u_5$. Every
# edge runs from a smaller index to a larger one:

# %%
edge_list = list(edges(f))
for parent, child, _slot in edge_list:
    assert number[parent] < number[child]
print(f"{len(edge_list)} edges, each from u_j to u_i with j < i:")
print(", ".join(f"u{number[p]} -> u{number[c]}" for p, c, _ in edge_list))

# %% [markdown]
# ## Algorithm 3: the forward pass
#
# Put the input vector $x$ into the first $m$ nodes, then visit the others in order:
#
# 1. for $i = 1, \dots, m$: $u_i \leftarrow x_i$;
# 2. for $i = m + 1, \dots, n$: $\mathbf{a}^i \leftarrow (u_j)_{j \in \mathrm{parents}(i)}$,
#    then $u_i \leftarrow f_i(\mathbf{a}^i)$;
# 3. return $u_n$.
#
# Take the sigmoid neuron of the lectures, $f(w_0, x_0, b) = 1/(1 + e^{-(w_0 x_0 + b)})$,
# broken into the gates $\times$, $+$, $\times(-1)$, $\exp$, $+1$ and $1/x$. As a graph it has
# $n = 9$ nodes: the inputs $u_1 = w_0$, $u_2 = x_0$, $u_3 = b$ and one node per gate. Below it
# is written down as plain tables (parents and functions, indexed by $i$) and evaluated by a
# literal transcription of Algorithm 3. The inputs $w_0 = -2$, $x_0 = 3$, $b = 7.5$ are
# back-solved from the slides' numbers (their text does not state the inputs): the products
# $(-2)(0.15)$ for $x_0$ and $(3)(0.15)$ for $w_0$ give $w_0 = -2$ and $x_0 = 3$, and
# $e^{-1.50}$ gives $w_0 x_0 + b = 1.5$, so $b = 7.5$.

# %%
m, n = 3, 9
parents = {4: (1, 2), 5: (4, 3), 6: (5,), 7: (6,), 8: (7,), 9: (8,)}
fn = {
    4: lambda a: a[0] * a[1],  # w0 * x0
    5: lambda a: a[0] + a[1],  # + b
    6: lambda a: -a[0],  # * -1
    7: lambda a: math.exp(a[0]),  # exp
    8: lambda a: a[0] + 1,  # + 1
    9: lambda a: 1 / a[0],  # 1/x
}


def forward(inputs):
    """Algorithm 3: the values u_1 ... u_n (a dict indexed from 1)."""
    u = {}
    for i in range(1, m + 1):
        u[i] = inputs[i - 1]
    for i in range(m + 1, n + 1):
        a = [u[j] for j in parents[i]]
        u[i] = fn[i](a)
    return u


u = forward([-2.0, 3.0, 7.5])
for i in range(1, n + 1):
    print(f"u{i} = {u[i]:8.4f}")

# %% [markdown]
# The engine builds the same nine nodes when it evaluates the formula
# (`gates.worked_example("sigmoid neuron")` is exactly `1 / (1 + (-(w0 * x0 + b)).exp())`):

# %%
neuron = gates.worked_example("sigmoid neuron")
engine_nodes = list(reversed(topological_order(neuron)))
print("engine ops:", " ".join(v.op or v.label for v in engine_nodes))
engine_values = [v.data for v in engine_nodes]
hand_values = [u[i] for i in range(1, n + 1)]
assert engine_values == hand_values
print("hand-written Algorithm 3 and the engine agree on all", n, "values")

# %% [markdown]
# ## Algorithm 4: the backward pass
#
# Backpropagation computes $\partial u_n / \partial u_j$ for **every** node $j$, walking the graph
# backwards. Write $\pi(i, j)$ for the position of $u_j$ in the argument list of $f_i$. Then
#
# 1. $\dfrac{\partial u_n}{\partial u_n} \leftarrow 1$;
# 2. for $j = n - 1$ down to $1$:
#    $$\frac{\partial u_n}{\partial u_j} \leftarrow \sum_{i:\, j \in \mathrm{parents}(i)}
#    \frac{\partial u_n}{\partial u_i}\,\frac{\partial f_i(\mathbf{a}^i)}{\partial a_{i, \pi(i,
#    j)}};$$
# 3. return $\left(\dfrac{\partial u_n}{\partial u_i}\right)_{i=1}^{m}$.
#
# The sum runs over the **children** $i$ of $j$: the nodes computed from $u_j$. Each term is the
# chain rule along one edge: how much $u_n$ moves per unit of $u_i$, times how much $u_i$ moves
# per unit of its argument $u_j$. The loop never needs a node's gradient before it is complete,
# because every child $i$ of $j$ has $i > j$ and was finished earlier in the loop.
#
# For the hand-written version we need the local partial derivatives of each $f_i$, one per
# argument:

# %%
local = {
    4: lambda a: (a[1], a[0]),  # d(a0 a1)/da0 = a1, d(a0 a1)/da1 = a0
    5: lambda a: (1.0, 1.0),
    6: lambda a: (-1.0,),
    7: lambda a: (math.exp(a[0]),),
    8: lambda a: (1.0,),
    9: lambda a: (-1 / a[0] ** 2,),
}
children = {j: [i for i in parents if j in parents[i]] for j in range(1, n + 1)}


def backward(u):
    """Algorithm 4: du_n/du_j for every j (a dict indexed from 1)."""
    grad = {n: 1.0}
    for j in range(n - 1, 0, -1):
        total = 0.0
        for i in children[j]:
            a = [u[k] for k in parents[i]]
            total += grad[i] * local[i](a)[parents[i].index(j)]  # index() is pi(i, j)
        grad[j] = total
    return grad


grad = backward(u)
for j in range(1, n + 1):
    print(f"du9/du{j} = {grad[j]:8.4f}")

# %% [markdown]
# The engine runs the same sweep with `neuron.backward()`. Two differences in how it is
# organised, none in what it computes:
#
# - it computes each local partial derivative once, during the forward pass, and stores it on
#   the node (`.local_grads`, one per argument), so the backward pass only multiplies and adds;
# - it *pushes* instead of *pulling*: visiting the nodes latest first, each node adds
#   $\text{local} \times \text{upstream}$ into each of its parents. When the sweep reaches
#   $u_j$, every child has already pushed its term, so `.grad` holds exactly Algorithm 4's sum.

# %%
neuron.backward()
engine_grads = [v.grad for v in engine_nodes]
hand_grads = [grad[j] for j in range(1, n + 1)]
assert np.allclose(engine_grads, hand_grads, rtol=1e-14, atol=0)
print("hand-written Algorithm 4 and engine.backward() agree on all", n, "gradients")

# %% [markdown]
# Here is the edge list of the neuron with what the engine stored on every edge: the local
# gradient $\partial f_i / \partial a_{i,\pi(i,j)}$, computed in the forward pass.

# %%
num = numbering(neuron)
for parent, child, slot in edges(neuron):
    print(
        f"u{num[parent]} -> u{num[child]} ({child.op:>3}, argument {slot})   "
        f"local gradient {child.local_grads[slot]:8.4f}"
    )

# %% [markdown]
# ## Direct and indirect effects
#
# Take $u_2 = f_2(u_1) = u_1^2$ and $u_3 = f_3(u_2, u_1) = e^{a_{31} + a_{32}}$ with
# $a_{31} = u_2$ and $a_{32} = u_1$. The **direct** partial derivative of $f_3$ with respect to
# its argument $a_{32}$, holding $a_{31}$ fixed, is
# $$\frac{\partial f_3}{\partial a_{32}} = e^{a_{31} + a_{32}} = e^{u_1 + u_2}.$$
# But $u_1$ reaches $u_3$ along **two paths**: directly, and through $u_2$. The **total**
# derivative sums over both:
# $$\frac{\partial u_3}{\partial u_1} = e^{u_1 + u_2} \cdot 1 + e^{u_1 + u_2} \cdot 2 u_1
# = e^{u_1 + u_2}(1 + 2 u_1).$$
# The two differ because $\partial u_3 / \partial u_1$ also counts the indirect dependency of
# $u_3$ on $u_1$ through $u_2$. Algorithm 4 gets this right automatically: $u_1$ has two
# children, and the sum over children is the sum over paths. At $u_1 = 1$, where
# $u_2 = 1$, the direct partial is $e^2$ and the total derivative $3e^2$:

# %%
u1 = Value(1.0, label="u1")
u2 = u1**2
u2.label = "u2"
u3 = (u2 + u1).exp()  # the engine splits f3 into a + node and an exp node
u3.label = "u3"
u3.backward()

direct = math.exp(1.0 + 1.0)
total = math.exp(1.0 + 1.0) * (1 + 2 * 1.0)
print(f"direct partial  e^(u1+u2)          = {direct:.6f}")
print(f"total by hand   e^(u1+u2)(1 + 2u1) = {total:.6f}")
print(f"total by engine u1.grad            = {u1.grad:.6f}")
assert math.isclose(u1.grad, total, rel_tol=1e-12)

# %% [markdown]
# The step-by-step record of the sweep, `backward_steps(u3)`, shows the two contributions
# arriving at $u_1$ one after the other, the direct one $1 \times e^2$ and the indirect one
# $2u_1 \times e^2$ (through the square gate), and the running total:

# %%
for s in backward_steps(u3):
    print(s.describe())

# %%
show(draw_graph(u3, title="Two paths from u1 to u3: the gradients add (Σ)"))

# %% [markdown]
# ## Worked example 1: $f(x, y, z) = x y + z$ at $x = 2$, $y = 3$, $z = -2$
#
# Name the intermediate $h = x y$, so $f = h + z$. Forward: $h = 6$, $f = 4$. Locally,
# $$h = x y:\ \frac{\partial h}{\partial x} = y,\ \frac{\partial h}{\partial y} = x; \qquad
# f = h + z:\ \frac{\partial f}{\partial h} = 1,\ \frac{\partial f}{\partial z} = 1.$$
# Backward, by the chain rule: $\dfrac{\partial f}{\partial x} = \dfrac{\partial f}{\partial h}
# \dfrac{\partial h}{\partial x} = 1 \cdot y = 3$,
# $\dfrac{\partial f}{\partial y} = 1 \cdot x = 2$, $\dfrac{\partial f}{\partial z} = 1$.
#
# In the drawings, the green number above an edge is the value flowing forward along it and
# the red number below it the gradient flowing back.

# %%
ex1 = gates.worked_example("x*y + z")
ex1.backward()
ins = {v.label: v for v in topological_order(ex1) if not v.parents}
print(f"f = {ex1.data:.1f}")
print(f"df/dx = {ins['x'].grad:.1f} (by hand y = 3)")
print(f"df/dy = {ins['y'].grad:.1f} (by hand x = 2)")
print(f"df/dz = {ins['z'].grad:.1f} (by hand 1)")
assert (ins["x"].grad, ins["y"].grad, ins["z"].grad) == (3.0, 2.0, 1.0)

# %%
show(draw_graph(ex1, title="f = x*y + z: values (green), gradients (red)"))

# %% [markdown]
# ## Worked example 2: $f(x, y, z) = (x + y) z$ at $x = -2$, $y = 5$, $z = -4$
#
# Now $q = x + y = 3$ and $f = q z = -12$. Locally,
# $\partial q/\partial x = \partial q/\partial y = 1$ and $\partial f/\partial q = z$,
# $\partial f/\partial z = q$. Backward:
# $$\frac{\partial f}{\partial x} = \frac{\partial f}{\partial q}\frac{\partial q}{\partial x}
# = z \cdot 1 = -4,\quad \frac{\partial f}{\partial y} = z \cdot 1 = -4,\quad
# \frac{\partial f}{\partial z} = q = 3.$$

# %%
ex2 = gates.worked_example("(x + y)*z")
ex2.backward()
ins = {v.label: v for v in topological_order(ex2) if not v.parents}
print(f"q = {ex2.parents[0].data:.1f}, f = {ex2.data:.1f}")
print(f"df/dx = {ins['x'].grad:.1f}, df/dy = {ins['y'].grad:.1f}, df/dz = {ins['z'].grad:.1f}")
assert (ins["x"].grad, ins["y"].grad, ins["z"].grad) == (-4.0, -4.0, 3.0)

# %%
show(draw_graph(ex2, title="f = (x + y)*z: values (green), gradients (red)"))

# %% [markdown]
# **Exercise `graph_gradients`.** Backpropagate by hand through $f = (a + b)(bc)$ at $a = 1$,
# $b = -2$, $c = 3$ and give $[\partial f/\partial a, \partial f/\partial b,
# \partial f/\partial c]$. Replace `None` with your answer and run the cell: it says whether the
# answer is right, and if not, what the likely bug is.

# %%
a, b, c = 1.0, -2.0, 3.0  # q = a + b, r = b * c, f = q * r
answer = None  # your code here: [df/da, df/db, df/dc]
check("graph_gradients", answer)

# %% [markdown]
# ## Local gradient × upstream gradient
#
# Both examples used one rule at every gate. A gate $u_i = f_i(\dots, u_j, \dots)$ knows two
# things when the sweep reaches it:
#
# - its **local gradient** $\partial f_i / \partial a_{i, \pi(i,j)}$, which depends only on its
#   own inputs and was available in the forward pass;
# - the **upstream gradient** $\partial u_n / \partial u_i$, handed to it by the rest of the
#   graph.
#
# It passes $\text{local} \times \text{upstream}$ to each input. Nothing else about the graph
# matters to the gate. That is what lets a library differentiate any program built from a
# small set of gates.

# %% [markdown]
# **Exercise `local_times_upstream`.** A multiply node $u = xy$ with $x = 3$, $y = -4$ receives the
# upstream gradient $\partial L/\partial u = 2$. What does it send to $x$ and to $y$?

# %%
x, y, upstream = 3.0, -4.0, 2.0  # u = x * y, and dL/du = upstream
answer = None  # your code here: [dL/dx, dL/dy]
check("local_times_upstream", answer)

# %% [markdown]
# ## Worked example 3: the sigmoid neuron, gate by gate
#
# $f(w_0, x_0, b) = \dfrac{1}{1 + e^{-(w_0 x_0 + b)}}$ with $w_0 = -2$, $x_0 = 3$, $b = 7.5$.
# The gates and their local derivatives come from a small table:
#
# | gate $f(x)$ | local gradient $df/dx$ |
# | --- | --- |
# | $e^x$ | $e^x$ |
# | $a x$ | $a$ |
# | $1/x$ | $-1/x^2$ |
# | $x + C$ | $1$ |
#
# Forward: $z = w_0 x_0 + b = -6 + 7.5 = 1.5$, then $-1.5$, $e^{-1.5} \approx 0.22$,
# $1 + 0.22 = 1.22$, and $f = 1/1.22 \approx 0.82$. Backward, starting from $1.00$:
#
# - $1/x$ gate at $1.22$: $-\dfrac{1}{1.22^2} \times 1.00 = -0.67$;
# - $+1$ gate: $1 \times (-0.67) = -0.67$;
# - $\exp$ gate: $e^{-1.50} \times (-0.67) = -0.15$;
# - $\times(-1)$ gate: $(-1) \times (-0.15) = 0.15$;
# - $+$ gate: $1 \times 0.15$ to both $w_0 x_0$ and $b$;
# - $\times$ gate: $x_0$ receives $(-2) \times 0.15 = -0.30$ and $w_0$ receives
#   $(3) \times 0.15 = 0.45$.
#
# The slides round every number to two decimals and keep computing with the rounded values.
# The cell below prints each slide value beside the exact one the engine computes, edge by edge
# in the order of the sweep, and checks that the exact value rounds to the slide's.

# %%
sweep = backward_steps(neuron)
slide = [-0.67, -0.67, -0.15, 0.15, 0.15, 0.15, 0.45, -0.30]
print("forward:  slide    exact")
for v, s in zip(engine_nodes[3:], [-6.00, 1.50, -1.50, 0.22, 1.22, 0.82]):
    print(f"{v.op:>4}    {s:6.2f}  {v.data:8.4f}")
print()
print("backward (local x upstream = contribution):   slide    exact")
for step, s in zip(sweep, slide):
    edge = f"{step.parent.label or step.parent.op} <- {step.node.label or step.node.op}"
    calc = f"{step.local:7.4f} x {step.upstream:7.4f}"
    print(f"{edge:>10}: {calc}                  {s:6.2f}  {step.contribution:8.4f}")
    assert round(step.contribution, 2) == s
print()
print(f"w0.grad = {engine_nodes[0].grad:.4f}   x0.grad = {engine_nodes[1].grad:.4f}", end="")
print(f"   b.grad = {engine_nodes[2].grad:.4f}")

# %% [markdown]
# Every exact value rounds to the slide's number. Two of them differ from the slide's own
# arithmetic in the last digit: the slide multiplies the rounded $0.15$, so it gets
# $3 \times 0.15 = 0.45$ and $(-2) \times 0.15 = -0.30$, while the exact products are
# $3 \times 0.1491 = 0.4474$ and $(-2) \times 0.1491 = -0.2983$. The drawing shows the exact
# values, rounded to two decimals:

# %%
show(draw_graph(neuron, title="Sigmoid neuron, gate by gate: values (green), gradients (red)"))

# %% [markdown]
# **Exercise `sigmoid_neuron`.** The same neuron at other values: give the gradient of $f$ with
# respect to $w_0, x_0, w_1, x_1, w_2$, in that order.

# %%
w0, x0, w1, x1, w2 = 0.5, 1.5, -1.0, 0.25, 0.2  # f = sigmoid(w0*x0 + w1*x1 + w2)
answer = None  # your code here: gradient [df/dw0, df/dx0, df/dw1, df/dx1, df/dw2]
check("sigmoid_neuron", answer)

# %% [markdown]
# ## The backward sweep, one edge at a time
#
# Algorithm 4 processes one edge per step. Pick an example and move the slider: the orange edge
# is the one computed in this step, its caption reads "local × upstream = contribution", and red
# numbers appear only where a gradient has already arrived. The steps are numbered as the sweep
# takes them, one per edge: step 1 is the first edge, from the output gate back to its first
# input, and the last step (4 for $x y + z$, 8 for the sigmoid neuron) finishes the sweep. Step 0
# is the graph before the sweep, when only the output's gradient, 1, is known. The slider goes
# as far as the chosen example has edges. (In a static viewer you see step 1 of $x y + z$.)

# %%
menu = W.Dropdown(options=list(gates.EXAMPLES), value="x*y + z", description="example")
slider = W.IntSlider(value=1, min=0, max=gates.example_steps("x*y + z"), description="step")
W.dlink((menu, "value"), (slider, "max"), gates.example_steps)  # the slider ends at the last step
interactive_figure(
    gates.example_step_figure,
    title="Backward sweep step by step",
    example=menu,
    step=slider,
)

# %% [markdown]
# The widget calls `gates.backward_step_figure`, which you can also call yourself: it returns
# the drawing and the description of that step from `backward_steps` (`show` displays both).
# Step 3 of the sigmoid neuron is the edge out of the exp gate, $e^{-1.50} \times (-0.67) =
# -0.15$:

# %%
show(gates.backward_step_figure(gates.worked_example("sigmoid neuron"), 3))

# %% [markdown]
# ## What a backward sweep costs
#
# Algorithm 4 touches every edge once, and each edge costs one multiplication and one addition
# (the local gradient is already known). So the time of a sweep should be **proportional to the
# number of edges**. `gates.backward_seconds` builds chains of $N$ one-input gates
# ($\tanh(\tanh(\cdots\tanh(x)))$, $N$ edges) and times `.backward()`. On log-log axes, time
# $\propto N$ is a straight line of slope 1. (Timings differ from machine to machine and run to
# run; the numbers in this cell are not checked.)

# %%
# NBVAL_IGNORE_OUTPUT
sizes = [1_000, 3_000, 10_000, 30_000, 100_000]
seconds = gates.backward_seconds(sizes, repeat=3)
slope, intercept = np.polyfit(np.log10(sizes), np.log10(seconds), 1)
for n_edges, s in zip(sizes, seconds):
    print(f"{n_edges:>7} edges: {1e3 * s:8.2f} ms  ({1e9 * s / n_edges:6.1f} ns per edge)")
print(f"fitted slope on log-log axes: {slope:.2f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(sizes, seconds, "o", markersize=7, label="measured backward()")
fit = 10**intercept * np.array(sizes, dtype=float) ** slope
ax.loglog(sizes, fit, "-", label=f"fitted line, slope {slope:.2f}")
ax.set_xlabel("number of edges N", fontsize=11)
ax.set_ylabel("seconds", fontsize=11)
ax.set_title("Backward sweep time grows in proportion to the edges", fontsize=12)
ax.legend(fontsize=10)
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown]
# ## All the gradients in one sweep
#
# The sweep computes $\partial u_n / \partial u_j$ for *every* node, so one pass gives the
# gradient with respect to all inputs: all weights of a network at once. Take a neuron's
# weighted sum $\sum_k w_k x_k$ with 10 000 terms (20 000 inputs, 39 998 edges). One call of
# `.backward()` fills in all 20 000 partial derivatives, and each is right:
# $\partial f/\partial w_k = x_k$ and $\partial f/\partial x_k = w_k$.

# %%
big = gates.graph_with_edges(39_998, kind="sum")
big.backward()
leaves = {v.label: v for v in topological_order(big) if not v.parents}
terms = len(leaves) // 2
ok = all(
    leaves[f"w{k}"].grad == leaves[f"x{k}"].data and leaves[f"x{k}"].grad == leaves[f"w{k}"].data
    for k in range(1, terms + 1)
)
print(f"{len(leaves)} inputs, {sum(1 for _ in edges(big))} edges, all gradients exact: {ok}")

# %% [markdown]
# How long did that take compared with evaluating the sum? The alternative, nudging one input
# at a time and re-evaluating (finite differences), needs one extra forward pass per input:
# 20 001 forward passes instead of one forward and one backward.

# %%
# NBVAL_IGNORE_OUTPUT
t_forward, t_backward = gates.forward_backward_seconds(39_998, kind="sum", repeat=3)
print(f"forward (build and evaluate): {1e3 * t_forward:7.1f} ms")
print(f"backward (all 20000 grads):   {1e3 * t_backward:7.1f} ms")
print(f"backward / forward:           {t_backward / t_forward:7.2f}")
print(f"finite differences would need about {20_001 * t_forward:.0f} s of forward passes")

# %% [markdown]
# Backward costs a small constant times the forward pass. (In this engine it is even *less*
# than the forward pass, because the forward pass already computed every local gradient and
# built the graph; libraries that compute local gradients during the backward pass typically
# spend one to three forward passes' worth.) Finite differences cost about as many forward
# passes as there are inputs: for a network with millions of weights, millions of passes
# instead of about two.
#
# ## Check yourself
#
# **1.** In $f = x y + z$ at $x = 2$, $y = 3$, $z = -2$, change $z$ to $10$. Which of the three
# gradients change?
#
# <details><summary>Answer</summary>
#
# None. $\partial f/\partial x = y = 3$, $\partial f/\partial y = x = 2$ and
# $\partial f/\partial z = 1$ do not depend on $z$. Only the forward value changes, to $16$.
#
# </details>
#
# **2.** For $u_2 = u_1^2$, $u_3 = e^{u_1 + u_2}$, at which value of $u_1$ does the total
# derivative $\partial u_3/\partial u_1$ vanish, although the direct partial is never zero?
#
# <details><summary>Answer</summary>
#
# $e^{u_1 + u_2}(1 + 2u_1) = 0$ at $u_1 = -1/2$: there the indirect path through $u_2$
# contributes $e^{u_1+u_2} \cdot 2u_1 = -e^{u_1+u_2}$, which cancels the direct path exactly.
# Check: `u1 = Value(-0.5); ((u1**2) + u1).exp().backward()` leaves `u1.grad == 0`.
#
# </details>
#
# **3.** A graph has $n$ nodes and $E$ edges. How many multiplications does one backward sweep
# of Algorithm 4 perform? And how many steps does the widget above have for the sigmoid neuron?
#
# <details><summary>Answer</summary>
#
# One per edge: $E$ multiplications (plus $E$ additions), whatever $n$ is. The sigmoid neuron
# has 8 edges ($\times$ and $+$ have two inputs each, the four other gates one), so the sweep
# has 8 steps.
#
# </details>
#
# **4.** In the sigmoid neuron, $\partial f/\partial b$ equals the gradient arriving at the
# $+$ gate. Why, and what is it, exactly and on the slides?
#
# <details><summary>Answer</summary>
#
# The $+$ gate has local gradient $1$ for each input, so $b$ receives the upstream gradient
# unchanged: $0.15$ on the slides, $0.1491$ exactly (it is $\sigma(1.5)(1 - \sigma(1.5))$, as
# the next notebook shows).
#
# </details>
#
# ## Summary
#
# - A computational graph has one node per variable and an edge $x \to y$ whenever $y$ is
#   computed from $x$; the nodes $u_1, \dots, u_n$ follow a partial order ($u_i$ depends only
#   on $u_j$ with $j < i$).
# - Algorithm 3 evaluates the nodes in that order; Algorithm 4 walks them backwards and sums,
#   over the children $i$ of each node $j$, upstream gradient $\times$ local gradient.
# - The total derivative sums over all paths; a direct partial derivative covers one edge only.
# - Every gate applies the same rule: local gradient $\times$ upstream gradient. With it the
#   three worked examples give $df/dx = 3, df/dy = 2, df/dz = 1$; $-4, -4, 3$; and
#   $-0.30, 0.45, 0.15$ for $x_0, w_0, b$ (exactly $-0.2983, 0.4474, 0.1491$).
# - One backward sweep yields the gradient with respect to every input, in time proportional to
#   the number of edges: a small constant times the forward pass.
#
# Next: [03 · Gates](03_gates.ipynb), how each kind of gate routes the gradient.
