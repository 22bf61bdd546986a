"""The expressions stage: facial expression classes from gray face crops (FER2013)."""
