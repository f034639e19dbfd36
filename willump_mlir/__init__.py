"""willump-mlir: compile Python ML inference pipelines, features and model, to native code.

```python
import willump_mlir as wm

compiled = wm.compile(score, example=(frame[:200], model))
compiled(frame, model)          # exactly what score(frame, model) returns
print(compiled.explain())       # what is native, what stays in Python and why
print(compiled.ir("feature"))   # the IR at any stage
```
"""

from willump_mlir.api import compile
from willump_mlir.runtime.compiled import CompiledPipeline
from willump_mlir.runtime.marshal import InputError

__all__ = ["compile", "CompiledPipeline", "InputError"]
