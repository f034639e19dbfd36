"""The translation from the ``llvm`` dialect to LLVM IR text, with the compilation's blobs.

``xdsl.backend.llvm.convert.convert_module`` writes the module's functions;
``llvm.func @f(%x: f64) -> f64 {...}`` ~> ``define double @"f"(double %".1") {...}``.
Two things it does not do are done here:

* xDSL's backend drops the linkage of functions; it is restored, so that ``llvm.func
  internal`` helpers can be inlined and discarded by the optimiser; a helper marked
  ``willump.noinline`` is not inlined (``noinline``).
* A declaration marked ``willump.tree_branches`` (an ensemble of ``layout "branches"``) is
  replaced by its definition, written by ``passes.tree_branches`` from the ensemble's blobs
  in the compilation's store, with metadata numbered after the module's::

      llvm.func @wm_trees_nodes_ab12(...) attributes {willump.tree_branches = {...}}
        ~>  define void @wm_trees_nodes_ab12(ptr %data, i64 %start, i64 %rows, ptr %sums)
"""

from __future__ import annotations

import re

from xdsl.backend.llvm.convert import convert_module
from xdsl.dialects import llvm
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp

from willump_mlir.blobs import BlobStore
from willump_mlir.passes import tree_branches


def module_to_llvm_ir(module: ModuleOp, blobs: BlobStore) -> str:
    """The LLVM IR text of an ``llvm``-dialect ``module`` whose blobs are in ``blobs``."""
    ir_module = convert_module(module, fallback_target_triple=None)
    generated: dict[str, DictionaryAttr] = {}
    for op in module.ops:
        if isinstance(op, llvm.FuncOp) and op.body.blocks:
            linkage = op.linkage.linkage.data
            if linkage != "external":
                ir_module.get_global(op.sym_name.data).linkage = linkage
            if "willump.noinline" in op.attributes:
                ir_module.get_global(op.sym_name.data).attributes.add("noinline")
        elif isinstance(op, llvm.FuncOp):
            ensemble = op.attributes.get("willump.tree_branches")
            if isinstance(ensemble, DictionaryAttr):
                generated[op.sym_name.data] = ensemble
    text = str(ir_module)
    for name, ensemble in generated.items():
        numbers = (int(n) for n in re.findall(r"^!(\d+) = ", text, re.M))
        definition = tree_branches.define(name, ensemble, blobs, 1 + max(numbers, default=-1))
        found = re.search(rf'^declare [^\n]*@"?{re.escape(name)}"?\(.*$', text, re.M)
        assert found is not None, f"no declaration of @{name} in the LLVM IR"
        text = text[: found.start()] + definition + text[found.end() :]
    return text
