"""Pure statistics for willump-mlir's approximate optimizations: per-row confidence of a cheap
model, Clopper–Pearson bounds, cascade threshold selection and certification on held-out rows,
knapsack selection of cheap feature-group subsets, grouped permutation importance, and the
candidate-count curve for top-K queries. Only numpy, scipy and scikit-learn are used here; nothing
in this package knows about the IR or the compiler."""
