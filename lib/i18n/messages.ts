/**
 * The UI's words, in English and French (the product page is bilingual).
 * The language follows the browser's (navigator.language), falling back to
 * English. Keys are stable; each entry is a sentence a person can act on.
 */
import type { EndReason } from '../call/state';

const en = {
  'end.hangup': 'Call ended.',
  'end.remote-hangup': 'They hung up.',
  'end.cancelled': 'Call cancelled.',
  'end.declined': 'They declined the call.',
  'end.declined-local': 'You declined the call.',
  'end.busy': 'They are in another call. Try again later.',
  'end.missed': 'Missed call.',
  'end.no-answer': 'No answer. Try again later.',
  'end.unreachable': 'They are not online right now (their Hush is closed or offline).',
  'end.relay-unreachable': 'The relay could not be reached. Check your connection or the relay address in the options.',
  'end.handshake-failed': 'The call was stopped because the keys did not check out: someone may be intercepting it. Try again, and compare the security code.',
  'end.mic-denied': 'Hush may not use your microphone. Allow it in the browser’s site settings for Hush, then call again.',
  'end.no-microphone': 'No microphone was found. Plug one in, then call again.',
  'end.media-failed': 'The audio connection could not be set up. Check your network and try again.',
  'end.connection-lost': 'The connection was lost.',
  'ui.yourAddress': 'Your address',
  'ui.copy': 'Copy',
  'ui.copied': 'Copied',
  'ui.relay.online': 'Connected to relay',
  'ui.relay.connecting': 'Connecting to relay…',
  'ui.relay.offline': 'Relay unreachable',
  'ui.dial.label': 'Call an address',
  'ui.dial.placeholder': 'hush1…',
  'ui.dial.button': 'Call',
  'ui.contacts': 'Contacts',
  'ui.contacts.empty': 'No contacts yet. Add one with their Hush address.',
  'ui.contact.add': 'Add contact',
  'ui.contact.name': 'Name',
  'ui.contact.address': 'Hush address',
  'ui.contact.call': 'Call',
  'ui.contact.verified': 'Verified',
  'ui.contact.delete': 'Delete',
  'ui.contact.rename': 'Rename',
  'ui.history': 'Recent calls',
  'ui.history.missed': 'Missed',
  'ui.history.incoming': 'Incoming',
  'ui.history.outgoing': 'Outgoing',
  'ui.call.state.dialing': 'Calling…',
  'ui.call.state.ringing': 'Ringing…',
  'ui.call.state.incoming': 'Incoming call',
  'ui.call.state.connecting': 'Connecting…',
  'ui.call.state.connected': 'Connected',
  'ui.call.state.reconnecting': 'Reconnecting…',
  'ui.call.state.ended': 'Call ended',
  'ui.call.path.p2p': 'Direct (P2P)',
  'ui.call.path.relay': 'Via relay',
  'ui.call.path.unknown': '—',
  'ui.call.mute': 'Mute',
  'ui.call.unmute': 'Unmute',
  'ui.call.hangup': 'Hang up',
  'ui.call.accept': 'Accept',
  'ui.call.decline': 'Decline',
  'ui.call.close': 'Close',
  'ui.call.sas': 'Security code',
  'ui.call.sasHelp': 'Read it aloud: if your contact sees the same digits, nobody is listening in.',
  'ui.call.markVerified': 'The codes match: mark verified',
  'ui.call.verified': 'Verified contact',
  'ui.call.keyChanged': 'Warning: this contact’s keys changed since you verified them.',
  'ui.call.unknownCaller': 'Not in your contacts',
  'ui.call.addCaller': 'Add to contacts',
} as const;

export type MessageKey = keyof typeof en;
type Key = MessageKey;

const fr: Record<Key, string> = {
  'end.hangup': 'Appel terminé.',
  'end.remote-hangup': 'Votre correspondant a raccroché.',
  'end.cancelled': 'Appel annulé.',
  'end.declined': 'Votre correspondant a refusé l’appel.',
  'end.declined-local': 'Vous avez refusé l’appel.',
  'end.busy': 'Votre correspondant est déjà en ligne. Réessayez plus tard.',
  'end.missed': 'Appel manqué.',
  'end.no-answer': 'Pas de réponse. Réessayez plus tard.',
  'end.unreachable': 'Votre correspondant n’est pas en ligne (Hush est fermé ou hors ligne).',
  'end.relay-unreachable': 'Le relais est injoignable. Vérifiez votre connexion ou l’adresse du relais dans les options.',
  'end.handshake-failed': 'L’appel a été interrompu car les clés ne concordent pas : quelqu’un tente peut-être de l’intercepter. Réessayez et comparez le code de sécurité.',
  'end.mic-denied': 'Hush n’a pas accès à votre micro. Autorisez-le dans les paramètres du navigateur pour Hush, puis rappelez.',
  'end.no-microphone': 'Aucun micro n’a été trouvé. Branchez-en un, puis rappelez.',
  'end.media-failed': 'La connexion audio n’a pas pu être établie. Vérifiez votre réseau et réessayez.',
  'end.connection-lost': 'La connexion a été perdue.',
  'ui.yourAddress': 'Votre adresse',
  'ui.copy': 'Copier',
  'ui.copied': 'Copiée',
  'ui.relay.online': 'Connecté au relais',
  'ui.relay.connecting': 'Connexion au relais…',
  'ui.relay.offline': 'Relais injoignable',
  'ui.dial.label': 'Appeler une adresse',
  'ui.dial.placeholder': 'hush1…',
  'ui.dial.button': 'Appeler',
  'ui.contacts': 'Contacts',
  'ui.contacts.empty': 'Aucun contact. Ajoutez-en un avec son adresse Hush.',
  'ui.contact.add': 'Ajouter le contact',
  'ui.contact.name': 'Nom',
  'ui.contact.address': 'Adresse Hush',
  'ui.contact.call': 'Appeler',
  'ui.contact.verified': 'Vérifié',
  'ui.contact.delete': 'Supprimer',
  'ui.contact.rename': 'Renommer',
  'ui.history': 'Appels récents',
  'ui.history.missed': 'Manqué',
  'ui.history.incoming': 'Entrant',
  'ui.history.outgoing': 'Sortant',
  'ui.call.state.dialing': 'Appel en cours…',
  'ui.call.state.ringing': 'Ça sonne…',
  'ui.call.state.incoming': 'Appel entrant',
  'ui.call.state.connecting': 'Connexion…',
  'ui.call.state.connected': 'En ligne',
  'ui.call.state.reconnecting': 'Reconnexion…',
  'ui.call.state.ended': 'Appel terminé',
  'ui.call.path.p2p': 'Direct (P2P)',
  'ui.call.path.relay': 'Via le relais',
  'ui.call.path.unknown': '—',
  'ui.call.mute': 'Couper le micro',
  'ui.call.unmute': 'Réactiver le micro',
  'ui.call.hangup': 'Raccrocher',
  'ui.call.accept': 'Répondre',
  'ui.call.decline': 'Refuser',
  'ui.call.close': 'Fermer',
  'ui.call.sas': 'Code de sécurité',
  'ui.call.sasHelp': 'Lisez-le à voix haute : si votre correspondant voit les mêmes chiffres, personne n’écoute.',
  'ui.call.markVerified': 'Les codes concordent : marquer comme vérifié',
  'ui.call.verified': 'Contact vérifié',
  'ui.call.keyChanged': 'Attention : les clés de ce contact ont changé depuis votre vérification.',
  'ui.call.unknownCaller': 'Absent de vos contacts',
  'ui.call.addCaller': 'Ajouter aux contacts',
};

export type Lang = 'en' | 'fr';

export function uiLang(): Lang {
  const l = (globalThis.navigator?.language ?? 'en').toLowerCase();
  return l.startsWith('fr') ? 'fr' : 'en';
}

export function endMessage(reason: EndReason, lang: Lang = uiLang()): string {
  const key = `end.${reason}` as Key;
  return (lang === 'fr' ? fr : en)[key];
}

/** The UI string for `key` in the browser's language. */
export function t(key: MessageKey, lang: Lang = uiLang()): string {
  return (lang === 'fr' ? fr : en)[key];
}
