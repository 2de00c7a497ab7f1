"""MLServe's Python package: ``mlserve.export`` writes scikit-learn models as artifacts.

The wire-protocol client is the top-level module ``mlserve_client`` (standard library only);
nothing here imports numpy or scikit-learn until the exporter runs.
"""

__version__ = "2.0.0"
