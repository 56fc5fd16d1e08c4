"""gatesim models: basic operations (BOs), transistor operations (TOs) and FLOPs of PyTorch models.

* :class:`BOVector` -- exact counts of add, sub, mul, div, root and compare.
* :func:`count` -- one entry point: ``counter="trace"`` (default; :func:`count_trace`, a TorchDispatchMode
  over forward, loss, backward and optionally the optimizer step) or ``counter="paper"``
  (:func:`count_paper`, the paper's module-level formulas, Algorithm 1).
* recipes (aten op -> BOs) live in :class:`RecipeSet` registries: ``get_recipes("default" | "paper")``,
  :func:`register_recipe`.
* :meth:`Report.tos` / :func:`transistor_operations` join BOs with any table object that has
  ``transistors(operation, fmt) -> int``.
"""
from .bo import OPERATIONS, PAPER_OPERATIONS, ZERO, BOVector, bo, dtype_of, format_of
from .recipes import (DEFAULT_RECIPES, FLOP_FORMULAS, FREE, PAPER_RECIPES, RecipeSet, add_recipe_set, get_recipes,
                      load_recipes, recipe_sets, register_flop_formula, register_recipe)
from .report import LEVEL_PHASES, PHASES, CountingError, Report, transistor_operations
from .trace import TraceCounter, count_trace, make_inputs, prepare_model
from .paper import (PAPER_ACTIVATION_GRADS, PAPER_ACTIVATIONS, conv2d_backward, conv2d_forward, count_paper,
                    linear_backward, linear_forward, loss_backward, loss_forward)
from .builtins import paper_cnn, paper_dnn
from .api import count

count_basic_ops = count  # the name the project brief uses

__all__ = [
    "BOVector", "bo", "ZERO", "OPERATIONS", "PAPER_OPERATIONS", "format_of", "dtype_of",
    "RecipeSet", "DEFAULT_RECIPES", "PAPER_RECIPES", "FREE", "FLOP_FORMULAS", "get_recipes", "load_recipes", "recipe_sets",
    "add_recipe_set", "register_recipe", "register_flop_formula",
    "Report", "CountingError", "transistor_operations", "PHASES", "LEVEL_PHASES",
    "TraceCounter", "count_trace", "make_inputs", "prepare_model",
    "count_paper", "linear_forward", "conv2d_forward", "linear_backward", "conv2d_backward", "loss_forward",
    "loss_backward", "PAPER_ACTIVATIONS", "PAPER_ACTIVATION_GRADS", "paper_dnn", "paper_cnn",
    "count", "count_basic_ops",
]
