-- Child-protection chain milestones of every delivery (all versions). Rename and cast only: no joins, no filtering.
with source as (

    select * from {{ source('chain', 'milestones') }}

),

renamed as (

    select
        case_pseudo_id,
        client_pseudo_id,
        gemeente_code,
        partner,
        partner_naam as partner_name,
        milestone,
        maatregel,
        timezone('UTC', occurred_at) as occurred_at,
        timezone('UTC', recorded_at) as recorded_at,
        {{ delivery_columns() }}

    from source

)

select * from renamed
