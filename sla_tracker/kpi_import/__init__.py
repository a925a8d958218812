"""KPI data logging: read vendor KPI packs (CSV, Excel), map their columns, validate, and write.

Every write of KPI data (file upload, hand entry, API) goes through `service.save_measurements`.
"""
