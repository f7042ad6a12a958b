"""Test-session set-up shared by tests/ and the doctests under src/.

SCIPY_ARRAY_API must be set before scipy is first imported: with it, scikit-learn's estimator
checks run their array-API check on chainrule's estimators instead of skipping it.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
