"""The two-way inbox: customers' free text collected in threads, staff answers and closing."""
