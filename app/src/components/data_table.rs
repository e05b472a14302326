//! A listing table in the house style: scrollable on phones, a caption for screen readers, column headers (numbers
//! right-aligned, the actions column named for screen readers only), and the caller's rows.

use leptos::prelude::*;

/// One column header.
#[derive(Debug, Clone, Copy)]
pub enum Column {
    Text(&'static str),
    /// Right-aligned, for counts.
    Number(&'static str),
    /// The row's buttons: no visible heading.
    Actions,
}

#[component]
pub fn DataTable(
    #[prop(into)] caption: String,
    columns: Vec<Column>,
    /// Extra classes of the table (`compact`).
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=class>
                <caption class="sr-only">{caption}</caption>
                <thead>
                    <tr>
                        {columns.into_iter().map(|column| match column {
                            Column::Text(label) => view! { <th scope="col">{label}</th> }.into_any(),
                            Column::Number(label) => view! { <th scope="col" class="num">{label}</th> }.into_any(),
                            Column::Actions => view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any(),
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
