"""The Qt desktop app of Backprop Lab."""
