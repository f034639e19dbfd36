"""share-text-decoding: decode and preprocess each text column once.

Several vectorizers on the same column (a word and a char_wb TF-IDF, say) each start with
a ``feature.decode_text``. When two of them read the same column of the same frame (looking
through ``pipeline.select_columns``) with the same lowercasing, accent stripping and tables,
the later one is replaced by the earlier one, so the row's UTF-8 is decoded, lowercased and
classified once and every n-gram counter reads the same code points::

    %a = pipeline.select_columns %df ["text"] : ... -> !pipeline.frame<"text" : !pipeline.str>
    %t1 = feature.decode_text %a "text" lowercase 1 strip none map ... : ... -> !feature.text
    %c1 = feature.count_terms %t1 word ngram 1 to 2 ...
    %b = pipeline.select_columns %df ["text"] : ... -> !pipeline.frame<"text" : !pipeline.str>
    %t2 = feature.decode_text %b "text" lowercase 1 strip none map ... : ... -> !feature.text
    %c2 = feature.count_terms %t2 char_wb ngram 2 to 4 ...
  ~>
    %t1 = feature.decode_text %a "text" lowercase 1 strip none map ... : ... -> !feature.text
    %c1 = feature.count_terms %t1 word ngram 1 to 2 ...
    %c2 = feature.count_terms %t1 char_wb ngram 2 to 4 ...

This is common-subexpression elimination of ``decode_text`` under its own equivalence, so
xDSL's ``cse`` (``xdsl.transforms.common_subexpression_elimination``) cannot do it without
changing behaviour, although ``decode_text`` and ``select_columns`` are ``Pure``:

* ``cse`` equates ops whose operands are the same SSA values. Decoding ``%df`` and decoding
  ``select_columns %df ["title"]`` read the same column but have different operands, so it
  keeps both decodes (it only merges decodes of identical selections, after merging the
  selections). A canonicalization pointing each ``decode_text`` at the frame its selection
  reads would make the operands equal, but changes the ops' operand types in the IR, and
  the merging would still be done by an unrestricted ``cse``.
* ``cse`` cannot be limited to these ops: ``cse(op)`` and ``CSEDriver`` take no filter (only
  its private ``_simplify_operation`` decides), so it also merges every other pair of equal
  ``Pure`` ops in the function and erases every unused one, e.g. a ``feature.encode_strings
  ... on_unknown error`` whose only effect is the error. Running it on a clone would not
  help: the clone has the same operands.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.transforms.dead_code_elimination import is_trivially_dead

from willump_mlir.dialects.feature import DecodeTextOp, frame_source
from willump_mlir.dialects.pipeline import SelectColumnsOp


def _decoding_key(op: DecodeTextOp) -> tuple[SSAValue, tuple[tuple[str, Attribute], ...]]:
    return frame_source(op.frame), tuple(sorted(op.properties.items()))


@dataclass(frozen=True)
class ShareTextDecodingPass(ModulePass):
    """Merge ``feature.decode_text`` ops that decode the same column the same way."""

    name = "share-text-decoding"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if not isinstance(function, FuncOp) or function.is_declaration:
                continue
            first: dict[object, DecodeTextOp] = {}
            for decode in list(function.walk()):
                if not isinstance(decode, DecodeTextOp):
                    continue
                kept = first.setdefault(_decoding_key(decode), decode)
                if kept is not decode:
                    frame = decode.frame.owner
                    Rewriter.replace_op(decode, [], [kept.result])
                    if isinstance(frame, SelectColumnsOp) and is_trivially_dead(frame):
                        Rewriter.erase_op(frame)
