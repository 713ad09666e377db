"""structurer.llm"""
