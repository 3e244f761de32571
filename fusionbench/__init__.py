"""fusionbench: one trustworthy benchmark for image fusion.

>>> import fusionbench
>>> fusionbench.__version__
'0.1.0'
"""

__version__ = "0.1.0"
