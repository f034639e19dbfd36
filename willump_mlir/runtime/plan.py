"""What the runtime executes: kernels and Python calls in order, read off the ``scf`` stage.

``lower-feature-to-scf`` records the schedule as IR attributes; this module turns it into
plain data that is stored next to the cached object code, so a warm start needs no IR.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
)
from xdsl.ir import Attribute

from willump_mlir.abi import KernelInputSpec, KernelOutputSpec


def attribute_to_python(attr: Attribute) -> Any:
    """String, number, array and dictionary attributes as Python values."""
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, IntegerAttr | FloatAttr):
        return attr.value.data
    if isinstance(attr, ArrayAttr):
        return [attribute_to_python(a) for a in attr.data]
    if isinstance(attr, DictionaryAttr):
        return {k: attribute_to_python(v) for k, v in attr.data.items()}
    raise TypeError(f"unexpected attribute {attr} in a schedule")


@dataclass(frozen=True)
class KernelStep:
    """Run native kernel ``name``: ``inputs``/``outputs`` describe its buffer arguments."""

    name: str
    inputs: list[KernelInputSpec]
    outputs: list[KernelOutputSpec]
    column_groups: list[dict[str, Any]]  # frame columns read together as one matrix


@dataclass(frozen=True)
class PythonStep:
    """Run Python call ``callee`` on the values ``args``, binding ``results``."""

    callee: str
    args: list[str]
    results: list[str]


@dataclass(frozen=True)
class SelectStep:
    """Bind ``select`` to the columns ``columns`` of the frame ``source`` (pandas)."""

    select: str
    source: str
    columns: list[str]


Step = KernelStep | PythonStep | SelectStep
STEP_KINDS: dict[str, type[Step]] = {
    "KernelStep": KernelStep,
    "PythonStep": PythonStep,
    "SelectStep": SelectStep,
}


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    returns: list[str]
    errors: dict[str, dict[str, Any]]
    constants: dict[str, float]

    @staticmethod
    def from_module(module: ModuleOp, function: str) -> Plan:
        """The plan of ``function`` in a module lowered by ``lower-feature-to-scf``."""
        schedule = attribute_to_python(module.attributes["willump.schedule"])[function]
        kernels = {
            op.sym_name.data: op
            for op in module.ops
            if isinstance(op, func.FuncOp) and "willump.kernel" in op.attributes
        }
        steps: list[Step] = []
        for step in schedule["steps"]:
            if "select" in step:
                steps.append(SelectStep(step["select"], step["source"], step["columns"]))
            elif "kernel" in step:
                kernel = kernels[step["kernel"]]
                steps.append(
                    KernelStep(
                        step["kernel"],
                        attribute_to_python(kernel.attributes["willump.inputs"]),
                        attribute_to_python(kernel.attributes["willump.outputs"]),
                        attribute_to_python(kernel.attributes["willump.column_groups"]),
                    )
                )
            else:
                steps.append(PythonStep(step["python"], step["args"], step["results"]))
        return Plan(steps, schedule["returns"], schedule["errors"], schedule["constants"])

    def to_json(self) -> str:
        steps = [{"kind": type(s).__name__} | asdict(s) for s in self.steps]
        return json.dumps(
            {
                "steps": steps,
                "returns": self.returns,
                "errors": self.errors,
                "constants": self.constants,
            }
        )

    @staticmethod
    def from_json(text: str) -> Plan:
        data = json.loads(text)
        steps = [STEP_KINDS[step.pop("kind")](**step) for step in data["steps"]]
        return Plan(steps, data["returns"], data["errors"], data["constants"])
