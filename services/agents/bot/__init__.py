"""The built-in bot: answers simple questions from the tenant's FAQ, hands the rest to people."""
