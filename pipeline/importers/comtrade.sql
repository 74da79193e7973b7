-- One UN Comtrade Plus CSV (bulk or API, 47 columns), every field as text, in file order.
SELECT * FROM read_csv($path, header = true, all_varchar = true, delim = ',', quote = '"')
