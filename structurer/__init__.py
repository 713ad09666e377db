"""structurer: Chinese budget and final-accounts disclosures → one canonical, validated data set."""
__version__ = "0.1.0"
