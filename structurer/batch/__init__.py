"""structurer.batch"""
