"""structurer.repair"""
