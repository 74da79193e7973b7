-- One CEPII BACI trade file (t,i,j,k,v,q), every field as text, in file order. Values are exact
-- decimals: v is in thousands of US dollars and q in metric tonnes; BACI pads a missing q as NA.
SELECT trim(t) AS t, trim(i) AS i, trim(j) AS j, trim(k) AS k, trim(v) AS v, trim(q) AS q,
       CAST(TRY_CAST(trim(v) AS DECIMAL(18, 3)) * 1000 AS VARCHAR) AS value_usd,
       CAST(TRY_CAST(nullif(nullif(trim(q), ''), 'NA') AS DECIMAL(18, 3)) * 1000 AS VARCHAR) AS quantity_kg
-- The layout is given, not sniffed: a short row is padded with NULLs (kept aside by the importer's rules,
-- at its line) rather than refusing the file; a line of another shape (a '#' note) is a row its rules refuse.
FROM read_csv($path, header = true, auto_detect = false, delim = ',', quote = '"', null_padding = true,
              columns = {'t': 'VARCHAR', 'i': 'VARCHAR', 'j': 'VARCHAR', 'k': 'VARCHAR', 'v': 'VARCHAR', 'q': 'VARCHAR'})
