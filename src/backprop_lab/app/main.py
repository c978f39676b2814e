"""Start the desktop app."""

import logging
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backprop_lab.app.main_window import APP_NAME, ORGANIZATION, MainWindow
from backprop_lab.resources import resource_path

logger = logging.getLogger(__name__)


def application() -> QApplication:
    """The running QApplication, made with the app's names if there is none."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    try:
        app.setWindowIcon(QIcon(str(resource_path("icons", "backprop-lab.svg"))))
    except FileNotFoundError:
        logger.warning("the app icon was not found")
    return app


def run(project_path=None) -> int:
    """Open the window (an example, or the given project) and run until closed."""
    app = application()
    window = MainWindow(project_path=project_path)
    window.show()
    status = app.exec()
    window.shutdown()
    return status
