"""Downloaded files taken as they are: one module per format recognises its layout (or fails with one
message naming the file and what is missing), maps codes, units and periods, and hands rows in a
contract's shape to the same validation, quarantine and audit as the seed files."""
