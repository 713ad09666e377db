"""structurer.evaluation"""
