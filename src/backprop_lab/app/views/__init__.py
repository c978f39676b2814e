"""Live views of training: each a QWidget fed with snapshots.

Every view has a `title`, says whether it `applies_to(dataset)`, and offers
`reset()`, `set_dataset(dataset)`, `update_snapshot(snapshot)` and
`export_image(path)` (.png or .svg).
"""

from backprop_lab.app.views.cost import CostView
from backprop_lab.app.views.decision_map import DecisionMapView
from backprop_lab.app.views.digits import DigitsWeightsView
from backprop_lab.app.views.gradient_norms import GradientNormView
from backprop_lab.app.views.weights import WeightsView

ALL_VIEWS = (
    CostView,
    WeightsView,
    GradientNormView,
    DecisionMapView,
    DigitsWeightsView,
)

__all__ = [
    "ALL_VIEWS",
    "CostView",
    "DecisionMapView",
    "DigitsWeightsView",
    "GradientNormView",
    "WeightsView",
]
