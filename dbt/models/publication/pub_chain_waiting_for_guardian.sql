-- Published: fct_chain_waiting_for_guardian after disclosure control; what is hidden and why is declared in
-- _publication__models.yml and applied by macro suppress (docs/disclosure.md).
{{ suppress(ref('fct_chain_waiting_for_guardian')) }}
