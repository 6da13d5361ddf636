import sys
from pathlib import Path

# Make tests/argspec.py importable as a plain module.
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The collection's modules import its module_utils as ansible_collections.djangoops.django.plugins.module_utils.*:
# collections/ holds the link that makes this repository that collection.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "collections"))
